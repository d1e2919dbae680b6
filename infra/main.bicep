// Storefront API on Azure: Flex Consumption function app (.NET 10 isolated), identity-only storage, Entra-only
// PostgreSQL Flexible Server behind its built-in PgBouncer, Application Insights without local auth, diagnostic
// settings to Log Analytics and alerts. Private networking by default (vnetEnabled). Nothing here is a secret, so
// there is no Key Vault (see infra/README.md, "Azure deployment").
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------
// General
// ---------------------------------------------------------------------------------------------------------

@description('Name of the environment (azd environment name, e.g. dev); part of the resource token and tags.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region of every resource; one offering Flex Consumption and PostgreSQL Flexible Server.')
@minLength(1)
param location string = resourceGroup().location

@description('Tags applied to every resource (azd-env-name is added).')
param tags object = {}

@description('E-mail address notified when an alert fires (5xx rate, poison messages, orders queue age); empty: the alerts show in the portal only.')
param alertNotificationEmail string = ''

@description('Private networking: the app integrates with a new virtual network and reaches storage (then closed to public access) and PostgreSQL through private endpoints. Off only on purpose: the app then reaches PostgreSQL over its public endpoint (postgresPublicNetworkAccess and postgresAllowAzureServices must be set).')
param vnetEnabled bool = true

// ---------------------------------------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------------------------------------

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param functionAppInstanceMemoryMB int = 2048

// Flex Consumption scales per function group: all HTTP functions together, every other function (each queue
// trigger, the timer) on its own, each group up to this many on-demand instances; always-ready instances come on
// top. Every instance holds up to postgresMaxPoolSize connections: see the pool arithmetic below.
@description('Most on-demand instances of each function group (Flex Consumption per-function scaling: the HTTP functions are one group, every other function is its own group).')
@minValue(40)
@maxValue(1000)
param functionAppMaximumInstanceCount int = 40

@description('Always-ready instances for HTTP triggers (0: scale from zero, cold starts possible).')
@minValue(0)
@maxValue(20)
param functionAppAlwaysReadyHttpInstances int = 0

// Set deliberately rather than left to the memory-based default (16 at 2048 MB): the product read waits on I/O
// for all but a fraction of a millisecond of its 50-odd, and holds a pooled connection only while its SQL runs. One
// core (a 2048 MB instance) with the app's pool of 20 connections served 64 concurrent reads whole at about 1,150 a
// second, p99 64 ms, a quarter of the core for host and worker, against about 290 a second at 16
// (tests/Performance/Benchmarks/one-instance.sh; infra/README.md). 64 leaves room for the real host's own cost per
// request and for the heavier endpoints; a load test in Azure is the way to raise it further.
@description('Concurrent HTTP requests one instance takes before the platform adds an instance (Flex Consumption HTTP concurrency).')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 64

@description('Base URL of the inventory service.')
@minLength(1)
param inventoryBaseUrl string

@description('Base URL of the reviews service.')
@minLength(1)
param reviewsBaseUrl string

@description('Base URL of the currency exchange (FX) service.')
@minLength(1)
param fxBaseUrl string

@description('Base URL of the payments service.')
@minLength(1)
param paymentsBaseUrl string

@description('Base URL of the shipping service.')
@minLength(1)
param shippingBaseUrl string

@description('Base URL of the notifications service.')
@minLength(1)
param notificationsBaseUrl string

@description('CRON expression (six fields, with seconds) of the sweep: pending outbox messages, stranded orders and reports.')
@minLength(1)
param sweepSchedule string = '*/30 * * * * *'

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL and the pool arithmetic
// ---------------------------------------------------------------------------------------------------------

@description('Compute size of the PostgreSQL server (General Purpose or Memory Optimized: PgBouncer is unavailable on Burstable).')
@allowed([
  'Standard_D2ds_v5'
  'Standard_D4ds_v5'
  'Standard_D8ds_v5'
  'Standard_E2ds_v5'
  'Standard_E4ds_v5'
])
param postgresSkuName string = 'Standard_D2ds_v5'

@description('Major PostgreSQL version.')
@allowed([
  '15'
  '16'
  '17'
])
param postgresVersion string = '16'

@description('Storage size of the PostgreSQL server in GiB.')
@allowed([
  32
  64
  128
  256
  512
])
param postgresStorageSizeGB int = 32

@description('Object id of the PostgreSQL Entra administrator: the deployer (azd sets AZURE_PRINCIPAL_ID) or the CI service principal.')
@minLength(36)
@maxLength(36)
param postgresAdminPrincipalId string

@description('Name of the PostgreSQL Entra administrator: UPN, group name, or the service principal\'s display name; it is the role name psql logs in as.')
@minLength(1)
param postgresAdminPrincipalName string

@description('Kind of principal the PostgreSQL Entra administrator is.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param postgresAdminPrincipalType string = 'User'

@description('Public network access to PostgreSQL (firewall rules only). Off by default: the app comes through the private endpoint. Needed when vnetEnabled is false, or to run migrations from outside the virtual network (a laptop, a GitHub-hosted runner through a temporary rule).')
param postgresPublicNetworkAccess bool = false

@description('The 0.0.0.0 firewall rule "allow Azure services": admits every Azure tenant\'s resources (only Entra tokens log in). Needed only when vnetEnabled is false (Flex Consumption has no fixed outbound addresses); requires postgresPublicNetworkAccess.')
param postgresAllowAzureServices bool = false

@description('Public IPv4 address allowed through the PostgreSQL firewall (e.g. your laptop, to run migrations); empty for none. Requires postgresPublicNetworkAccess.')
param postgresAllowedClientIpAddress string = ''

// Pool arithmetic. The app connects to PgBouncer (port 6432, pool_mode=transaction), never to PostgreSQL directly.
//
//   (1) client side:  postgresMaxPoolSize x (functionAppMaximumInstanceCount x function groups
//                                            + functionAppAlwaysReadyHttpInstances) <= pgBouncerMaxClientConnections
//                     dev:  20 x (40 x 6 + 0) = 4800 <= 5000
//       Flex Consumption scales per function group (functionScaleGroupCount below: the HTTP functions together,
//       each queue-triggered and timer function alone), each group up to functionAppMaximumInstanceCount on-demand
//       instances, always-ready instances on top. Every instance's Npgsql pool ("Max Pool Size") can be full at
//       the same time when every group is at full scale-out. PgBouncer client connections are cheap (no server
//       connection each): 5000 is Azure's default max_client_conn.
//
//   (2) server side:  pgBouncerDefaultPoolSize x pgBouncerPoolCount <= max_connections - reserved - direct
//                     dev:  50 x 2 = 100 <= 859 - 15 - 20 = 824   (Standard_D2ds_v5: max_connections 859)
//       default_pool_size is per (user, database) pair: the app identity and the administrator are the two
//       pairs that may go through PgBouncer. Azure reserves 15 connections (replication, monitoring); 20 are kept
//       for direct connections on 5432 (migrations, psql, the administrator).
//
// Both are checked below with fail(): a deployment with parameters that break them stops before any resource.

@description('Npgsql "Max Pool Size" of each function app instance (connections to PgBouncer).')
@minValue(1)
@maxValue(100)
param postgresMaxPoolSize int = 20

@description('PgBouncer max_client_conn: client connections PgBouncer accepts in total (must cover the full pool of every instance of every function group).')
@minValue(10)
@maxValue(50000)
param pgBouncerMaxClientConnections int = 5000

@description('PgBouncer default_pool_size: server connections per (user, database) pair (must fit in the server\'s max_connections).')
@minValue(1)
@maxValue(1000)
param pgBouncerDefaultPoolSize int = 50

// ---------------------------------------------------------------------------------------------------------
// Names and derived values
// ---------------------------------------------------------------------------------------------------------

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var allTags = union(tags, { 'azd-env-name': environmentName })

var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'
var databaseName = 'storefront'

// Queues: the triggers' queues (see functions.metadata; poison queues are written by the host), the report queues
// among them. Containers: the deployment package and the report blobs.
var queueNames = [
  'orders'
  'orders-poison'
  'reports'
  'reports-poison'
]
var containerNames = [
  deploymentContainerName
  'reports'
]

// max_connections by compute size (Azure defaults, which this template does not change).
var postgresMaxConnectionsBySku = {
  Standard_D2ds_v5: 859
  Standard_D4ds_v5: 1719
  Standard_D8ds_v5: 3438
  Standard_E2ds_v5: 1719
  Standard_E4ds_v5: 3438
}
var postgresReservedConnections = 15
var postgresDirectConnections = 20
var pgBouncerPoolCount = 2
// The app's Flex Consumption scale groups: one for all HTTP functions, plus one per other function (two queue
// triggers and their two poison-queue triggers, one timer). tests/Infrastructure.Tests compares it with the app's
// functions.metadata.
var functionScaleGroupCount = 6
var functionAppMostInstances = functionAppMaximumInstanceCount * functionScaleGroupCount + functionAppAlwaysReadyHttpInstances
var pgBouncerClientDemand = postgresMaxPoolSize * functionAppMostInstances
var postgresServerBudget = postgresMaxConnectionsBySku[postgresSkuName] - postgresReservedConnections - postgresDirectConnections
var pgBouncerServerDemand = pgBouncerDefaultPoolSize * pgBouncerPoolCount

var pgBouncerMaxClientConnectionsChecked = pgBouncerClientDemand <= pgBouncerMaxClientConnections
  ? pgBouncerMaxClientConnections
  : fail('Pool arithmetic: postgresMaxPoolSize x (functionAppMaximumInstanceCount x ${functionScaleGroupCount} function groups + functionAppAlwaysReadyHttpInstances) = ${pgBouncerClientDemand} exceeds pgBouncerMaxClientConnections (${pgBouncerMaxClientConnections}).')
var pgBouncerDefaultPoolSizeChecked = pgBouncerServerDemand <= postgresServerBudget
  ? pgBouncerDefaultPoolSize
  : fail('Pool arithmetic: pgBouncerDefaultPoolSize x ${pgBouncerPoolCount} = ${pgBouncerServerDemand} exceeds max_connections of ${postgresSkuName} minus reserved and direct connections (${postgresServerBudget}).')

// PostgreSQL's public endpoint exists only when asked for. Without the virtual network the app has no private
// path and no fixed outbound address, so it needs the public endpoint and the Azure-services rule; firewall rules
// need the public endpoint.
var postgresPublicNetworkAccessChecked = !vnetEnabled && !(postgresPublicNetworkAccess && postgresAllowAzureServices)
  ? fail('Without vnetEnabled the app reaches PostgreSQL over its public endpoint from no fixed address: set postgresPublicNetworkAccess and postgresAllowAzureServices, or vnetEnabled.')
  : !postgresPublicNetworkAccess && (postgresAllowAzureServices || !empty(postgresAllowedClientIpAddress))
      ? fail('postgresAllowAzureServices and postgresAllowedClientIpAddress are firewall rules of the public endpoint: they need postgresPublicNetworkAccess.')
      : postgresPublicNetworkAccess

// ---------------------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------------------

// The app's one identity: storage, Application Insights and PostgreSQL (as a database principal of this name).
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
  location: location
  tags: allTags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: allTags
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: allTags
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    containerNames: containerNames
    queueNames: queueNames
    privateOnly: vnetEnabled
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    location: location
    tags: allTags
    name: '${abbrs.dBforPostgreSQLServers}${resourceToken}'
    version: postgresVersion
    skuName: postgresSkuName
    storageSizeGB: postgresStorageSizeGB
    databaseName: databaseName
    administratorPrincipalId: postgresAdminPrincipalId
    administratorPrincipalName: postgresAdminPrincipalName
    administratorPrincipalType: postgresAdminPrincipalType
    publicNetworkAccess: postgresPublicNetworkAccessChecked
    allowAzureServices: postgresAllowAzureServices
    allowedClientIpAddress: postgresAllowedClientIpAddress
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    // pgbouncer.enabled is applied first by the module; these follow it.
    pgBouncerParameters: {
      'pgbouncer.pool_mode': 'transaction'
      'pgbouncer.max_client_conn': pgBouncerMaxClientConnectionsChecked
      'pgbouncer.default_pool_size': pgBouncerDefaultPoolSizeChecked
    }
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    tags: allTags
    namePrefix: 'alert-${resourceToken}'
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    notificationEmail: alertNotificationEmail
  }
}

module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  params: {
    location: location
    tags: allTags
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    storageAccountId: storage.outputs.id
    postgresServerId: postgres.outputs.id
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    location: location
    tags: allTags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    name: functionAppName
    identityId: identity.id
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    instanceMemoryMB: functionAppInstanceMemoryMB
    maximumInstanceCount: functionAppMaximumInstanceCount
    alwaysReadyHttpInstances: functionAppAlwaysReadyHttpInstances
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    virtualNetworkSubnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    appSettings: {
      // Host and app storage (queues, blobs), identity-based: no connection string exists (shared keys are off).
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.properties.clientId
      AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
      AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
      // Telemetry: Entra-authenticated ingestion (the component has local auth disabled).
      APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.properties.clientId}'
      // PostgreSQL through PgBouncer with an Entra token of the app identity as the password.
      Postgres__UseEntraAuth: 'true'
      Postgres__Host: postgres.outputs.fullyQualifiedDomainName
      Postgres__Port: '6432'
      Postgres__Database: postgres.outputs.databaseName
      Postgres__Username: identity.name
      Postgres__ClientId: identity.properties.clientId
      Postgres__MaxPoolSize: string(postgresMaxPoolSize)
      // External services.
      Services__Inventory__BaseUrl: inventoryBaseUrl
      Services__Reviews__BaseUrl: reviewsBaseUrl
      Services__Fx__BaseUrl: fxBaseUrl
      Services__Payments__BaseUrl: paymentsBaseUrl
      Services__Shipping__BaseUrl: shippingBaseUrl
      Services__Notifications__BaseUrl: notificationsBaseUrl
      Recovery__SweepSchedule: sweepSchedule
    }
  }
  dependsOn: [
    // The host starts with the identity; its storage and telemetry roles must exist first.
    roles
  ]
}

// ---------------------------------------------------------------------------------------------------------
// Outputs (names and endpoints only; nothing secret exists)
// ---------------------------------------------------------------------------------------------------------

@description('Resource group of the deployment.')
output resourceGroupName string = resourceGroup().name

@description('Name of the function app.')
output functionAppName string = functionApp.outputs.name

@description('Base URL of the function app.')
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('Name of the app\'s user-assigned identity: also its role name in PostgreSQL (pgaadauth_create_principal).')
output identityName string = identity.name

@description('Client id of the app\'s user-assigned identity.')
output identityClientId string = identity.properties.clientId

@description('Object (principal) id of the app\'s user-assigned identity.')
output identityPrincipalId string = identity.properties.principalId

@description('Name of the PostgreSQL server.')
output postgresServerName string = postgres.outputs.name

@description('Host name of the PostgreSQL server (PgBouncer on 6432, PostgreSQL on 5432 for migrations).')
output postgresHost string = postgres.outputs.fullyQualifiedDomainName

@description('Name of the app\'s database.')
output postgresDatabaseName string = postgres.outputs.databaseName

@description('Name of the storage account.')
output storageAccountName string = storage.outputs.name

@description('Name of the Application Insights component.')
output applicationInsightsName string = monitoring.outputs.applicationInsightsName
