using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Health;

public static class HealthExtensions
{
    public const string CheckTimeoutKey = "Health:CheckTimeout";
    public static readonly TimeSpan DefaultCheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Registers the dependency checks behind GET /api/health. HealthCheckService runs them concurrently,
    /// each under its own timeout linked to the caller's cancellation token.
    /// </summary>
    public static IHostApplicationBuilder AddHealthFeature(this IHostApplicationBuilder builder)
    {
        var checkTimeout = builder.Configuration.GetValue(CheckTimeoutKey, DefaultCheckTimeout);
        if (checkTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Configuration '{CheckTimeoutKey}' must be a positive TimeSpan such as 00:00:02.");
        }

        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>(PostgresHealthCheck.Name, timeout: checkTimeout)
            .AddCheck<StorageHealthCheck>(StorageHealthCheck.Name, timeout: checkTimeout);
        return builder;
    }
}
