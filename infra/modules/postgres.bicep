// Azure Database for PostgreSQL Flexible Server with Microsoft Entra authentication only (no passwords exist),
// the built-in PgBouncer (port 6432, transaction pooling) and the "storefront" database. Network: no public
// endpoint unless asked for (publicNetworkAccess); then firewall rules only: optionally Azure services (when the
// app has no private endpoint) and a client address for migrations from a laptop; the pipeline adds a temporary
// rule for its runner. Logs and metrics go to Log Analytics. The app's identity becomes a database principal in
// the migration step (pgaadauth_create_principal), not here: ARM cannot create roles inside the database.

@description('Azure region of the server.')
param location string

@description('Tags applied to the server.')
param tags object = {}

@description('Name of the server (also the first label of its host name).')
param name string

@description('Major PostgreSQL version.')
@allowed([
  '15'
  '16'
  '17'
])
param version string = '16'

@description('Compute size. General Purpose or Memory Optimized only: the built-in PgBouncer is not available on Burstable.')
@allowed([
  'Standard_D2ds_v5'
  'Standard_D4ds_v5'
  'Standard_D8ds_v5'
  'Standard_E2ds_v5'
  'Standard_E4ds_v5'
])
param skuName string = 'Standard_D2ds_v5'

@description('Storage size in GiB.')
@allowed([
  32
  64
  128
  256
  512
])
param storageSizeGB int = 32

@description('Days of point-in-time restore.')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 7

@description('Name of the database the app uses.')
param databaseName string

@description('Object id of the Entra administrator (the deployer or the CI service principal; it runs the migrations).')
param administratorPrincipalId string

@description('Name of the Entra administrator: the user principal name, group name or service principal (app) display name.')
param administratorPrincipalName string

@description('Kind of Entra principal the administrator is.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param administratorPrincipalType string

@description('PgBouncer server parameters other than pgbouncer.enabled (name to value), applied one at a time after PgBouncer is enabled; checked against the pool arithmetic by main.bicep.')
param pgBouncerParameters object

@description('Whether the server has a public endpoint (firewall rules only); without it only private endpoints reach it.')
param publicNetworkAccess bool = false

@description('Whether the firewall allows every Azure service, any tenant\'s (0.0.0.0 rule; needs publicNetworkAccess).')
param allowAzureServices bool = false

@description('Public IPv4 address the firewall allows (e.g. the laptop running migrations; needs publicNetworkAccess); empty for none.')
param allowedClientIpAddress string = ''

@description('Resource id of the Log Analytics workspace receiving the server\'s logs and metrics.')
param logAnalyticsWorkspaceId string

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: startsWith(skuName, 'Standard_E') ? 'MemoryOptimized' : 'GeneralPurpose'
  }
  properties: {
    version: version
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    }
  }
}

resource administrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: administratorPrincipalId
  properties: {
    principalName: administratorPrincipalName
    principalType: administratorPrincipalType
    tenantId: tenant().tenantId
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    administrator
  ]
}

// Server parameters cannot be changed concurrently: one at a time. PgBouncer first: its other parameters only
// exist once it is enabled, and items() would order pgbouncer.default_pool_size before pgbouncer.enabled.
resource pgBouncerEnabled 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'pgbouncer.enabled'
  properties: {
    value: 'true'
    source: 'user-override'
  }
  dependsOn: [
    database
  ]
}

@batchSize(1)
resource pgBouncer 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = [
  for parameter in items(pgBouncerParameters): {
    parent: server
    name: parameter.key
    properties: {
      value: string(parameter.value)
      source: 'user-override'
    }
    dependsOn: [
      pgBouncerEnabled
    ]
  }
]

// 0.0.0.0 - 0.0.0.0 is the documented form of "allow public access from any Azure service", any tenant's: only
// for an app outside the virtual network, whose Flex Consumption instances have no fixed outbound addresses. Only
// Entra tokens can log in.
resource azureServicesRule 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (publicNetworkAccess && allowAzureServices) {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    pgBouncer
  ]
}

resource allowClient 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (publicNetworkAccess && !empty(allowedClientIpAddress)) {
  parent: server
  name: 'AllowClient'
  properties: {
    startIpAddress: allowedClientIpAddress
    endIpAddress: allowedClientIpAddress
  }
  dependsOn: [
    azureServicesRule
  ]
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: server
  name: 'to-log-analytics'
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the server (target of the optional private endpoint).')
output id string = server.id

@description('Name of the server.')
output name string = server.name

@description('Host name of the server (PgBouncer listens on port 6432, PostgreSQL itself on 5432).')
output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName

@description('Name of the app\'s database.')
output databaseName string = database.name
