using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.Api.Catalog;
using Storefront.Api.ExternalServices;
using Storefront.FunctionsHost.Http;

namespace Storefront.Benchmarks;

/// <summary>
/// The app's product read without the Functions host: a plain ASP.NET Core minimal API in the benchmark process that
/// registers the app's own external-service clients (with their resilience handlers, hedge budgets and FX cache) and
/// catalog services from Storefront.Api.dll, and maps <c>GET /api/products/{sku}</c> to the same
/// <see cref="ProductDetailsReader"/>, behind ASP.NET Core's concurrency limiter with the app's host.json throttles
/// (maxConcurrentRequests running, the rest queued up to maxOutstandingRequests, then 429).
/// What it leaves out is exactly the Functions pipeline: the host's forwarding and gRPC invocation, the worker's
/// middleware, and the app's warm-up and request-arrival bookkeeping.
/// </summary>
public sealed class MinimalApi : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MinimalApi(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <param name="throttles">The app's host.json throttles, bounded ones only.</param>
    public static async Task<MinimalApi> StartAsync(Uri simulator, string postgres, HttpThrottleOptions throttles)
    {
        if (throttles.MaxConcurrentRequests == HttpThrottleOptions.Unbounded || throttles.MaxOutstandingRequests == HttpThrottleOptions.Unbounded)
        {
            throw new ArgumentException("The minimal API needs host.json's maxConcurrentRequests and maxOutstandingRequests both set.", nameof(throttles));
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // As the app does (ApplicationServiceExtensions): no Activity and log scope per request from hosting diagnostics.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(
            DevStack.DevStack.ServiceNames.Select(service => KeyValuePair.Create($"Services:{service}:BaseUrl", (string?)simulator.ToString())));
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
        builder.AddExternalServices();
        builder.AddCatalogFeature();
        builder.Services.AddRateLimiter(limits =>
        {
            limits.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limits.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetConcurrencyLimiter(
                "reads",
                _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = throttles.MaxConcurrentRequests,
                    QueueLimit = throttles.MaxOutstandingRequests - throttles.MaxConcurrentRequests,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                }));
        });
        var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/api/products/{sku}", async (string sku, string? currency, ProductDetailsReader reader, HttpContext context, CancellationToken cancellationToken) =>
        {
            var result = await reader.ReadAsync(sku, currency ?? FxRates.BaseCurrency, cancellationToken);
            return result.Status switch
            {
                ProductReadStatus.Found => Results.Ok(result.Product),
                ProductReadStatus.NotFound => Results.NotFound(),
                ProductReadStatus.UnsupportedCurrency => Results.BadRequest(),
                _ => Unavailable(context),
            };
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new MinimalApi(app, address);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private static IResult Unavailable(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "2";
        return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
    }
}
