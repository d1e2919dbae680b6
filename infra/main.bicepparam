// Dev defaults. azd fills AZURE_ENV_NAME, AZURE_LOCATION and AZURE_PRINCIPAL_ID; the pipeline exports the same
// variables (see infra/README.md, "Azure deployment"). A variable set to the empty string reaches its parameter
// as '' (the default here applies only to an unset variable): main.bicep refuses empty required strings.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
param alertNotificationEmail = readEnvironmentVariable('ALERT_NOTIFICATION_EMAIL', '')

// The PostgreSQL Entra administrator: you (azd up) or the pipeline's service principal.
param postgresAdminPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '00000000-0000-0000-0000-000000000000')
param postgresAdminPrincipalName = readEnvironmentVariable('POSTGRES_ADMIN_NAME', 'storefront-deployer')
param postgresAdminPrincipalType = readEnvironmentVariable('POSTGRES_ADMIN_TYPE', 'User')

// Private endpoints and VNet integration; PostgreSQL's public endpoint only when asked for (POSTGRES_PUBLIC_NETWORK_ACCESS=true:
// migrations from a laptop or a GitHub-hosted runner, through firewall rules). VNET_ENABLED=false needs both
// POSTGRES_PUBLIC_NETWORK_ACCESS=true and POSTGRES_ALLOW_AZURE_SERVICES=true (see infra/README.md, "Network").
param vnetEnabled = bool(readEnvironmentVariable('VNET_ENABLED', 'true'))
param postgresPublicNetworkAccess = bool(readEnvironmentVariable('POSTGRES_PUBLIC_NETWORK_ACCESS', 'false'))
param postgresAllowAzureServices = bool(readEnvironmentVariable('POSTGRES_ALLOW_AZURE_SERVICES', 'false'))
param postgresAllowedClientIpAddress = readEnvironmentVariable('POSTGRES_ALLOWED_CLIENT_IP', '')

// Dev scale: 20 connections x (40 instances x 6 function groups) = 4800 <= 5000 PgBouncer clients;
// 50 x 2 server connections <= 824.
param functionAppMaximumInstanceCount = 40
param functionAppAlwaysReadyHttpInstances = 0
param httpPerInstanceConcurrency = 64
param postgresSkuName = 'Standard_D2ds_v5'
param postgresMaxPoolSize = 20
param pgBouncerMaxClientConnections = 5000
param pgBouncerDefaultPoolSize = 50

// The six external services (dev: one stand-in endpoint; replace per environment).
param inventoryBaseUrl = readEnvironmentVariable('SERVICES_INVENTORY_BASE_URL', 'https://inventory.dev.example.com')
param reviewsBaseUrl = readEnvironmentVariable('SERVICES_REVIEWS_BASE_URL', 'https://reviews.dev.example.com')
param fxBaseUrl = readEnvironmentVariable('SERVICES_FX_BASE_URL', 'https://fx.dev.example.com')
param paymentsBaseUrl = readEnvironmentVariable('SERVICES_PAYMENTS_BASE_URL', 'https://payments.dev.example.com')
param shippingBaseUrl = readEnvironmentVariable('SERVICES_SHIPPING_BASE_URL', 'https://shipping.dev.example.com')
param notificationsBaseUrl = readEnvironmentVariable('SERVICES_NOTIFICATIONS_BASE_URL', 'https://notifications.dev.example.com')

param sweepSchedule = '*/30 * * * * *'
