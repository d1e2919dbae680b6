using Azure.Storage.Queues;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Storefront.Api.Health;

/// <summary>Healthy when the queue service answers an authenticated request.</summary>
public sealed class StorageHealthCheck(QueueServiceClient queueService) : IHealthCheck
{
    public const string Name = "storage";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Service properties prove endpoint and credentials without depending on any queue existing.
        await queueService.GetPropertiesAsync(cancellationToken);
        return HealthCheckResult.Healthy();
    }
}
