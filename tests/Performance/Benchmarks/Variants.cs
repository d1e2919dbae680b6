using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.Api.Catalog;
using Storefront.Api.ExternalServices;

namespace Storefront.Benchmarks;

/// <summary>
/// Scenario 2's three implementations of the same product read, in one plain ASP.NET Core process (this one),
/// with the app's own typed clients (InventoryClient, ReviewsClient, FxClient) and ProductStore from
/// Storefront.Api.dll, the same simulator and database, and the same pool size as the app (20):
/// <c>/variants/concurrent/{sku}</c> (all waits at once, as ProductDetailsReader does),
/// <c>/variants/sequential/{sku}</c> (the same awaits one after the other) and
/// <c>/variants/blocking/{sku}</c> (the same calls, sync over async: <c>.GetAwaiter().GetResult()</c>).
/// What they leave out compared with the app: the resilience handlers (hedging, breaker, timeouts), the request budget,
/// Server-Timing and the Functions host. The FX rates are read once and held, as the app's cache does when warm.
/// <c>/variants/static</c> answers a fixed body: the bare Kestrel floor for the host-overhead comparison.
/// </summary>
public sealed class Variants : IAsyncDisposable
{
    private readonly WebApplication _app;
    private FxRatesSnapshot? _rates;

    private Variants(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<Variants> StartAsync(Uri simulator, string postgres, byte[] staticBody)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Quiet: the blocking variant's abandoned requests fail noisily when the server stops; hey counts the errors.
        builder.Logging.SetMinimumLevel(LogLevel.None);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHttpClient<InventoryClient>(c => c.BaseAddress = simulator);
        builder.Services.AddHttpClient<ReviewsClient>(c => c.BaseAddress = simulator);
        builder.Services.AddHttpClient<FxClient>(c => c.BaseAddress = simulator);
        var connection = new NpgsqlConnectionStringBuilder(postgres) { MaxPoolSize = 20 };
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connection.ConnectionString));
        builder.Services.AddSingleton<ProductStore>();
        var app = builder.Build();
        var variants = new Variants(app);

        app.MapGet("/variants/static", () => Results.Bytes(staticBody, "application/yaml"));
        app.MapGet("/variants/concurrent/{sku}", async (string sku, ProductStore store, InventoryClient inventory, ReviewsClient reviews, CancellationToken ct) =>
        {
            var row = store.GetAsync(sku, ct);
            var stock = inventory.GetStockAsync(sku, ct);
            var rating = reviews.GetSummaryAsync(sku, ct);
            await Task.WhenAll(row, stock, rating);
            return Compose(await row, await stock, await rating, variants._rates!);
        });
        app.MapGet("/variants/sequential/{sku}", async (string sku, ProductStore store, InventoryClient inventory, ReviewsClient reviews, CancellationToken ct) =>
        {
            var row = await store.GetAsync(sku, ct);
            var stock = await inventory.GetStockAsync(sku, ct);
            var rating = await reviews.GetSummaryAsync(sku, ct);
            return Compose(row, stock, rating, variants._rates!);
        });
        app.MapGet("/variants/blocking/{sku}", (string sku, ProductStore store, InventoryClient inventory, ReviewsClient reviews) =>
        {
            // Deliberately wrong (the anti-pattern being measured): each call blocks a thread-pool thread until it completes.
            var row = store.GetAsync(sku, CancellationToken.None).GetAwaiter().GetResult();
            var stock = inventory.GetStockAsync(sku, CancellationToken.None).GetAwaiter().GetResult();
            var rating = reviews.GetSummaryAsync(sku, CancellationToken.None).GetAwaiter().GetResult();
            return Compose(row, stock, rating, variants._rates!);
        });

        await app.StartAsync();
        variants.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using (var scope = app.Services.CreateScope())
        {
            variants._rates = await scope.ServiceProvider.GetRequiredService<FxClient>().GetRatesAsync("USD", CancellationToken.None);
        }

        return variants;
    }

    private static IResult Compose(ProductRow? row, StockLevel? stock, RatingSummary rating, FxRatesSnapshot rates)
    {
        if (row is null)
        {
            return Results.NotFound();
        }

        var rate = rates.Rates["EUR"];
        var body = new StringBuilder()
            .Append("{\"sku\":\"").Append(row.Sku).Append("\",\"price\":").Append(decimal.Round(row.PriceUsd * rate, 2))
            .Append(",\"available\":").Append(stock?.Available ?? 0).Append(",\"rating\":").Append(rating.Average).Append('}')
            .ToString();
        return Results.Text(body, "application/json");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
