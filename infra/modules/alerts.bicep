// Alerts on what the app's users feel, evaluated on the Application Insights telemetry of the app (host and
// worker): the share of HTTP requests answered with 5xx, any message reaching a poison queue (an order or report
// that failed for good), and how long messages waited on "orders" before a function took them.

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
    description: 'A message reached a poison queue (orders-poison or reports-poison): an order or report failed for good.'
    // The FailPoisoned* functions are triggered by the poison queues, so each invocation is a message that was on one.
    query: 'requests | where operation_Name in ("FailPoisonedOrder", "FailPoisonedReport") | summarize messages = count()'
    measure: 'messages'
    threshold: 0
  }
  {
    name: 'orders-message-age'
    severity: 2
    description: 'A message waited more than ${ordersMessageAgeThresholdSeconds} seconds on the orders queue before ProcessOrder took it.'
    // The host logs each dequeued message's insertion time ("Trigger Details: ... InsertedOn: ...").
    query: 'traces | where operation_Name == "ProcessOrder" and message startswith "Trigger Details:" | extend inserted = todatetime(extract(@"InsertedOn: ([^,]+)", 1, message)) | where isnotnull(inserted) | summarize seconds = max(datetime_diff("second", timestamp, inserted))'
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
