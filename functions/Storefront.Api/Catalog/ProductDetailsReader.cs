using System.Diagnostics;
using Microsoft.Extensions.Options;
using Storefront.Api.ExternalServices;

namespace Storefront.Api.Catalog;

public enum ProductReadStatus
{
    Found,
    NotFound,
    UnsupportedCurrency,
    DatabaseUnavailable,
}

/// <summary>What one product read produced, with each dependency's duration for Server-Timing.</summary>
public sealed record ProductReadResult(ProductReadStatus Status, ProductDetails? Product, IReadOnlyList<DependencyTiming> Timings);

/// <param name="Cached">The part came from this instance's memory, not from the dependency.</param>
public sealed record DependencyTiming(string Name, TimeSpan Duration, bool Failed, bool Cached = false);

/// <summary>
/// The catalog's fan-out: the product row, stock, rating and the exchange rate are independent, so
/// they start together and the answer takes as long as the slowest of them, bounded by the request
/// budget. A service that fails, times out or has its circuit open only leaves its part null. The row of a product
/// read recently comes from memory (<see cref="ProductCache"/>).
/// </summary>
public sealed class ProductDetailsReader(
    ProductStore store,
    ProductCache products,
    InventoryClient inventory,
    ReviewsClient reviews,
    FxRates fxRates,
    IOptions<CatalogOptions> options)
{
    public const string Inventory = "inventory";
    public const string Reviews = "reviews";
    public const string Fx = "fx";

    private static readonly DependencyTiming CachedRow = new("db", TimeSpan.Zero, Failed: false, Cached: true);

    public Task<ProductReadResult> ReadAsync(string sku, string currency, CancellationToken cancellationToken) =>
        ReadAsync(sku, currency, TimeSpan.Zero, cancellationToken);

    /// <param name="waited">How long the request waited before this read started; it is spent from the budget.</param>
    public async Task<ProductReadResult> ReadAsync(string sku, string currency, TimeSpan waited, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Remaining(waited));

        // The slowest calls are sent first: the services answer in tens of milliseconds, the row in about one, so the
        // time spent sending the row's query is not added to the answer's latency.
        var enrichment = StartEnrichment(sku, budget.Token, cancellationToken);
        var rates = RatesFor(currency, budget.Token, cancellationToken);
        var row = products.TryGet(sku, out var cached)
            ? new Outcome<ProductRow?>(cached, false, CachedRow)
            : await LoadRowAsync(sku, cancellationToken);

        if (row.Value is null)
        {
            // Nothing to show: stop the calls still in flight instead of waiting for them.
            await budget.CancelAsync();
            await Task.WhenAll(rates, enrichment.Stock, enrichment.Rating);
            var status = row.Failed ? ProductReadStatus.DatabaseUnavailable : ProductReadStatus.NotFound;
            return new ProductReadResult(status, null, [row.Timing]);
        }

        var rate = await rates;
        var details = await ComposeAsync(row.Value, currency, rate, enrichment);
        var timings = new[] { row.Timing, (await enrichment.Stock).Timing, (await enrichment.Rating).Timing, rate.Timing }
            .Where(t => t.Duration > TimeSpan.Zero || t.Failed || t.Cached)
            .ToArray();
        return details is null
            ? new ProductReadResult(ProductReadStatus.UnsupportedCurrency, null, timings)
            : new ProductReadResult(ProductReadStatus.Found, details, timings);
    }

    /// <summary>Many products: one query for all rows, then their service calls, a bounded number at a time.</summary>
    public async Task<(IReadOnlyList<ProductDetails> Items, IReadOnlyList<string> NotFound, bool UnsupportedCurrency)> ReadManyAsync(
        IReadOnlyList<string> skus, string currency, TimeSpan waited, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Remaining(waited));
        using var rowBound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        rowBound.CancelAfter(options.Value.RowReadTimeout);

        var rates = RatesFor(currency, budget.Token, cancellationToken);
        var rows = await store.GetManyAsync(skus, rowBound.Token);
        var details = new ProductDetails?[skus.Count];
        var found = Enumerable.Range(0, skus.Count).Where(i => rows.ContainsKey(skus[i])).ToArray();
        await Parallel.ForEachAsync(
            found,
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.LookupConcurrency, CancellationToken = cancellationToken },
            async (index, _) =>
            {
                var enrichment = StartEnrichment(skus[index], budget.Token, cancellationToken);
                details[index] = await ComposeAsync(rows[skus[index]], currency, await rates, enrichment);
            });

        // Read once the loop is over: the products run concurrently, and each writes only its own slot.
        var unsupported = found.Any(i => details[i] is null);
        var notFound = skus.Where(sku => !rows.ContainsKey(sku)).ToArray();
        return (details.OfType<ProductDetails>().ToArray(), notFound, unsupported);
    }

    /// <summary>The row from the database, within its own bound (<see cref="CatalogOptions.RowReadTimeout"/>).</summary>
    private async Task<Outcome<ProductRow?>> LoadRowAsync(string sku, CancellationToken cancellationToken)
    {
        using var rowBound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        rowBound.CancelAfter(options.Value.RowReadTimeout);
        return await Measure("db", () => products.LoadAsync(sku, rowBound.Token), cancellationToken);
    }

    private TimeSpan Remaining(TimeSpan waited) =>
        waited < options.Value.RequestBudget ? options.Value.RequestBudget - waited : TimeSpan.Zero;

    /// <returns>The details, or null when the FX service answered but does not know the currency.</returns>
    private static async Task<ProductDetails?> ComposeAsync(ProductRow row, string currency, Outcome<FxRatesSnapshot?> rates, Enrichment enrichment)
    {
        var stock = await enrichment.Stock;
        var rating = await enrichment.Rating;
        var degraded = new List<string>(3);
        if (stock.Failed || stock.Value is null)
        {
            degraded.Add(Inventory);
        }

        if (rating.Failed)
        {
            degraded.Add(Reviews);
        }

        Money price;
        if (currency == FxRates.BaseCurrency)
        {
            price = Money.Usd(row.PriceUsd);
        }
        else if (rates.Failed || rates.Value is null)
        {
            degraded.Add(Fx);
            price = Money.Usd(row.PriceUsd);
        }
        else if (rates.Value.Rates.TryGetValue(currency, out var rate))
        {
            price = Money.Convert(row.PriceUsd, currency, rate);
        }
        else
        {
            return null;
        }

        return new ProductDetails(
            row.Sku,
            row.Name,
            row.Description,
            price,
            stock.Value is { } level ? new StockView(level.Available, level.Warehouse) : null,
            rating.Value is { } summary ? new RatingView(summary.Average, summary.Count) : null,
            degraded);
    }

    private Enrichment StartEnrichment(string sku, CancellationToken budget, CancellationToken request) => new(
        Measure(Inventory, () => inventory.GetStockAsync(sku, budget), request),
        Measure<RatingSummary?>(Reviews, async () => await reviews.GetSummaryAsync(sku, budget), request));

    private Task<Outcome<FxRatesSnapshot?>> RatesFor(string currency, CancellationToken budget, CancellationToken request) =>
        currency == FxRates.BaseCurrency
            ? Task.FromResult(new Outcome<FxRatesSnapshot?>(null, false, new DependencyTiming(Fx, TimeSpan.Zero, false)))
            : Measure<FxRatesSnapshot?>(Fx, async () => await fxRates.GetAsync(budget), request);

    /// <summary>
    /// Runs one dependency call and never throws for the dependency's sake: a failure, a timeout or an
    /// open circuit becomes a failed outcome. Only the caller going away propagates.
    /// </summary>
    private static async Task<Outcome<T>> Measure<T>(string name, Func<Task<T>> call, CancellationToken request)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var value = await call();
            return new Outcome<T>(value, false, new DependencyTiming(name, Stopwatch.GetElapsedTime(started), false));
        }
        catch (Exception exception) when (!request.IsCancellationRequested && exception is not OutOfMemoryException)
        {
            return new Outcome<T>(default, true, new DependencyTiming(name, Stopwatch.GetElapsedTime(started), true));
        }
    }

    private sealed record Outcome<T>(T? Value, bool Failed, DependencyTiming Timing);

    private sealed record Enrichment(Task<Outcome<StockLevel?>> Stock, Task<Outcome<RatingSummary?>> Rating);
}
