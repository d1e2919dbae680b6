using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Storefront.Api.Health;

public static class HealthExtensions
{
    /// <summary>
    /// Registers the dependency checks behind GET /api/health. HealthCheckService runs them concurrently,
    /// each under its own timeout (Health:CheckTimeout) linked to the caller's cancellation token.
    /// </summary>
    public static IHostApplicationBuilder AddHealthFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthOptions>()
            .Bind(builder.Configuration.GetSection(HealthOptions.Section))
            .Validate(o => o.CheckTimeout > TimeSpan.Zero, "Health: CheckTimeout must be a positive TimeSpan such as 00:00:02.")
            .ValidateOnStart();
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>(PostgresHealthCheck.Name)
            .AddCheck<StorageHealthCheck>(StorageHealthCheck.Name);
        builder.Services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<HealthOptions>>((checks, health) =>
        {
            foreach (var check in checks.Registrations)
            {
                check.Timeout = health.Value.CheckTimeout;
            }
        });
        return builder;
    }
}
