// Dev defaults. azd fills AZURE_ENV_NAME, AZURE_LOCATION and AZURE_PRINCIPAL_ID; the pipeline exports the same
// variables (see infra/README.md, "Azure deployment").
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')

// The PostgreSQL Entra administrator: you (azd up) or the pipeline's service principal.
param postgresAdminPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '00000000-0000-0000-0000-000000000000')
param postgresAdminPrincipalName = readEnvironmentVariable('POSTGRES_ADMIN_NAME', 'storefront-deployer')
param postgresAdminPrincipalType = readEnvironmentVariable('POSTGRES_ADMIN_TYPE', 'User')
param postgresAllowedClientIpAddress = readEnvironmentVariable('POSTGRES_ALLOWED_CLIENT_IP', '')

// Public endpoints locked by identity in dev; VNET_ENABLED=true for private endpoints and VNet integration.
param vnetEnabled = bool(readEnvironmentVariable('VNET_ENABLED', 'false'))

// Dev scale: 20 connections x 40 instances = 800 <= 1000 PgBouncer clients; 50 x 2 server connections <= 824.
param functionAppMaximumInstanceCount = 40
param functionAppAlwaysReadyHttpInstances = 0
param httpPerInstanceConcurrency = 16
param postgresSkuName = 'Standard_D2ds_v5'
param postgresMaxPoolSize = 20
param pgBouncerMaxClientConnections = 1000
param pgBouncerDefaultPoolSize = 50

// The six external services (dev: one stand-in endpoint; replace per environment).
param inventoryBaseUrl = readEnvironmentVariable('SERVICES_INVENTORY_BASE_URL', 'https://inventory.dev.example.com')
param reviewsBaseUrl = readEnvironmentVariable('SERVICES_REVIEWS_BASE_URL', 'https://reviews.dev.example.com')
param fxBaseUrl = readEnvironmentVariable('SERVICES_FX_BASE_URL', 'https://fx.dev.example.com')
param paymentsBaseUrl = readEnvironmentVariable('SERVICES_PAYMENTS_BASE_URL', 'https://payments.dev.example.com')
param shippingBaseUrl = readEnvironmentVariable('SERVICES_SHIPPING_BASE_URL', 'https://shipping.dev.example.com')
param notificationsBaseUrl = readEnvironmentVariable('SERVICES_NOTIFICATIONS_BASE_URL', 'https://notifications.dev.example.com')

param ordersSweepSchedule = '*/30 * * * * *'
