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
    /// <summary>Registers everything the function app needs; each feature folder adds its own services here.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Typed results (TypedResults.Problem/ValidationProblem) write RFC 9457 problem+json through this service.
        builder.Services.AddProblemDetails();

        // Per-call chatter (each SQL command, each resilience attempt) drowns the app's own logs and costs
        // ingestion in Azure; failures still come through at Warning and above.
        builder.Logging.AddFilter("Npgsql.Command", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);

        builder.AddTelemetry();
        builder.AddPostgres();
        builder.AddStorage();
        builder.AddRecovery();

        builder.AddExternalServices();

        builder.AddHealthFeature();
        builder.AddCatalogFeature();
        builder.AddOrdersFeature();
        builder.AddReportsFeature();
        return builder;
    }
}
