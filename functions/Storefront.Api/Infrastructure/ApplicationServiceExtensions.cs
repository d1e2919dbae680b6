using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Storefront.Api.Health;

namespace Storefront.Api.Infrastructure;

public static class ApplicationServiceExtensions
{
    /// <summary>Registers everything the function app needs; each feature folder adds its own services here.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Typed results (TypedResults.Problem/ValidationProblem) write RFC 9457 problem+json through this service.
        builder.Services.AddProblemDetails();

        builder.AddPostgres();
        builder.AddStorageQueues();

        builder.AddHealthFeature();
        return builder;
    }
}
