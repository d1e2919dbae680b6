using Azure.Storage.Queues;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Storefront.Api.Orders;

namespace Storefront.Api.Health;

/// <summary>Healthy when the queue service answers an authenticated read of the "orders" queue.</summary>
public sealed class StorageHealthCheck(QueueServiceClient queueService) : IHealthCheck
{
    public const string Name = "storage";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Get Queue Metadata needs queueServices/queues/read, which the app identity's Storage Queue Data Contributor
        // role grants; service-level calls (Get Queue Service Properties) need queueServices/read, which no data
        // role grants, so with Entra auth they answer 403 (see tests/Infrastructure.Tests, StorageOperationTests).
        // Whether the queue exists yet does not matter here (locally the first send creates it): a 403 or an
        // unreachable endpoint throws.
        await queueService.GetQueueClient(OrderStore.QueueName).ExistsAsync(cancellationToken);
        return HealthCheckResult.Healthy();
    }
}
