using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Storefront.Api.Catalog;
using Storefront.Api.ExternalServices;
using Storefront.Api.Health;
using Storefront.Api.Infrastructure.Recovery;
using Storefront.Api.Orders;
using Storefront.Api.Reports;

namespace Storefront.Api.Infrastructure;

public static class ApplicationServiceExtensions
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>Registers everything the function app needs; each feature folder adds its own services here.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Typed results (TypedResults.Problem) write RFC 9457 problem+json through this service.
        builder.Services.AddProblemDetails();

        // Per-request chatter from the frameworks (ASP.NET Core's request start/finish and endpoint lines, each SQL
        // command, each resilience attempt, each HTTP call) drowns the app's own logs and costs ingestion in Azure.
        // In the isolated worker it also costs CPU on both sides for every request: each enabled record is formatted,
        // sent to the host over gRPC and decoded there (host.json's log levels do not reach the worker). Failures
        // still come through at Warning and above.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // ASP.NET Core starts an Activity and a logging scope for every request as long as this category is enabled at
        // any level, to correlate its request lines, which are below Warning anyway. (Request failures are logged by
        // Kestrel's own category; the worker's invocations are traced by the Functions telemetry, not this Activity.)
        // A provider-specific rule wins over every rule for all providers, so the rule is repeated for each provider
        // that has rules of its own.
        builder.Services.PostConfigure<LoggerFilterOptions>(options =>
        {
            foreach (var provider in options.Rules.Select(rule => rule.ProviderName).Distinct().ToArray())
            {
                options.Rules.Add(new LoggerFilterRule(provider, HostingDiagnostics, LogLevel.None, null));
            }
        });
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        // The HTTP client logging handlers would still open a scope and time every call with nothing enabled to write.
        builder.Services.ConfigureHttpClientDefaults(http => http.RemoveAllLoggers());
        builder.Services.AddSingleton<IStartupFilter, RequestArrival.StartupFilter>();

        builder.AddTelemetry();
        builder.AddPostgres();
        builder.AddStorage();
        builder.AddRecovery();

        builder.AddExternalServices();

        builder.AddHealthFeature();
        builder.AddCatalogFeature();
        builder.AddOrdersFeature();
        builder.AddReportsFeature();

        // Registered last so that every service it warms is registered; it runs before any hosted service starts.
        builder.Services.AddHostedService<WarmUp>();
        return builder;
    }
}
