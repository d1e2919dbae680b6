// Alerts on what the app's users feel, evaluated on the Application Insights telemetry of the app (host and
// worker): the share of HTTP requests answered with 5xx, any message reaching a poison queue (its work failed
// every attempt), and how long messages waited on "orders" before a function took them. The queue alerts read the
// Functions host's own log lines, so they do not depend on the app's function names.

@description('Azure region of the alert rules.')
param location string

@description('Tags applied to every resource.')
param tags object = {}

@description('Prefix of the alert rule names.')
param namePrefix string

@description('Resource id of the Application Insights component the rules query.')
param applicationInsightsId string

@description('E-mail address notified when an alert fires; empty: the alerts show in the portal only.')
param notificationEmail string = ''

@description('Share of HTTP requests answered with 5xx, in percent over 5 minutes, above which the 5xx alert fires.')
@minValue(1)
@maxValue(100)
param http5xxPercentThreshold int = 5

@description('Seconds a message may wait on the "orders" queue before a function takes it, above which the queue-age alert fires.')
@minValue(10)
param ordersMessageAgeThresholdSeconds int = 120

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(notificationEmail)) {
  name: '${namePrefix}-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'storefront'
    enabled: true
    emailReceivers: [
      {
        name: 'on-call'
        emailAddress: notificationEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var rules = [
  {
    name: 'http-5xx-rate'
    severity: 1
    description: 'More than ${http5xxPercentThreshold}% of HTTP requests answered 5xx in the last 5 minutes.'
    // HTTP requests only (queue and timer invocations carry no URL).
    query: 'requests | where isnotempty(url) | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total > 0 | extend percent = 100.0 * failed / total'
    measure: 'percent'
    threshold: http5xxPercentThreshold
  }
  {
    name: 'poison-messages'
    severity: 1
    description: 'A message reached a poison queue (e.g. orders-poison): its work failed on every attempt.'
    // Logged by the host's queue listener each time it moves a message to a poison queue.
    query: 'traces | where message startswith "Message has reached MaxDequeueCount" and message contains "-poison\'" | summarize messages = count()'
    measure: 'messages'
    threshold: 0
  }
  {
    name: 'orders-message-age'
    severity: 2
    description: 'A message waited more than ${ordersMessageAgeThresholdSeconds} seconds on the orders queue before a function took it.'
    // The host logs, per invocation, the queue that triggered it and the message's insertion time.
    query: 'let taken = traces | where message contains "New queue message detected on \'orders\'." | distinct operation_Id; traces | where message startswith "Trigger Details:" and operation_Id in (taken) | extend inserted = todatetime(extract(@"InsertedOn: ([^,]+)", 1, message)) | where isnotnull(inserted) | summarize seconds = max(datetime_diff("second", timestamp, inserted))'
    measure: 'seconds'
    threshold: ordersMessageAgeThresholdSeconds
  }
]

resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: '${namePrefix} ${rule.name}'
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsightsId
      ]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT5M'
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Maximum'
            metricMeasureColumn: rule.measure
            operator: 'GreaterThan'
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: empty(notificationEmail) ? [] : [
          actionGroup.id
        ]
      }
    }
  }
]
