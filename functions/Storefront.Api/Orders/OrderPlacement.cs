using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Storefront.Api.Catalog;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Orders;

public abstract record PlacementResult
{
    public sealed record Accepted(OrderAccepted Answer) : PlacementResult;

    public sealed record Invalid(Dictionary<string, string[]> Errors) : PlacementResult;

    public sealed record InsufficientStock(IReadOnlyList<string> Skus) : PlacementResult;

    public sealed record KeyReused : PlacementResult;

    public sealed record DependencyUnavailable(string Dependency) : PlacementResult;
}

/// <summary>
/// Accepting an order: validate, then price it (Postgres), check stock (inventory) and get the rate
/// (FX) concurrently, store it with its outbox message in one transaction, and hand the message to the
/// queue. The caller gets its answer without waiting for payment, shipping or notification.
/// </summary>
public sealed class OrderPlacement(
    OrderStore orders,
    ProductStore products,
    InventoryClient inventory,
    FxRates fxRates,
    OutboxDispatcher outbox,
    IOptions<OrdersOptions> options)
{
    public async Task<PlacementResult> PlaceAsync(string idempotencyKey, PlaceOrderRequest request, CancellationToken cancellationToken)
    {
        var (order, errors) = OrderValidator.Validate(request);
        if (order is null)
        {
            return new PlacementResult.Invalid(errors);
        }

        var requestHash = SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(order));
        if (await orders.FindByIdempotencyKeyAsync(idempotencyKey, cancellationToken) is { } earlier)
        {
            return Replay(earlier, requestHash);
        }

        var skus = order.Lines.Select(l => l.Sku).ToArray();
        var pricesTask = products.GetManyAsync(skus, cancellationToken);
        var stockTask = CheckStockAsync(order.Lines, cancellationToken);
        var ratesTask = order.Currency == FxRates.BaseCurrency ? Task.FromResult<FxRatesSnapshot?>(null) : RatesAsync(cancellationToken);
        await Task.WhenAll(pricesTask, stockTask, ratesTask);

        var prices = await pricesTask;
        var unknown = order.Lines.Select((line, index) => (line, index)).Where(l => !prices.ContainsKey(l.line.Sku)).ToArray();
        if (unknown.Length > 0)
        {
            return new PlacementResult.Invalid(unknown.ToDictionary(u => $"lines[{u.index}].sku", u => new[] { $"'{u.line.Sku}' is not in the catalog." }));
        }

        if (await stockTask is not { } shortSkus)
        {
            return new PlacementResult.DependencyUnavailable("inventory");
        }

        if (shortSkus.Count > 0)
        {
            return new PlacementResult.InsufficientStock(shortSkus);
        }

        var rate = 1m;
        if (order.Currency != FxRates.BaseCurrency)
        {
            if (await ratesTask is not { } rates)
            {
                return new PlacementResult.DependencyUnavailable("fx");
            }

            if (!rates.Rates.TryGetValue(order.Currency, out rate))
            {
                return new PlacementResult.Invalid(new() { ["currency"] = [$"'{order.Currency}' is not a supported currency."] });
            }
        }

        var unitPrices = order.Lines.Select(l => Money.Convert(prices[l.Sku].PriceUsd, order.Currency, rate).Amount).ToArray();
        var total = order.Lines.Select((l, i) => l.Quantity * unitPrices[i]).Sum();
        var stored = await orders.InsertAsync(new NewOrder(Guid.CreateVersion7(), idempotencyKey, requestHash, order, unitPrices, total), cancellationToken);
        if (stored is not { } accepted)
        {
            // A concurrent request with the same key won the insert; answer as it did.
            var winner = await orders.FindByIdempotencyKeyAsync(idempotencyKey, cancellationToken)
                ?? throw new InvalidOperationException("An order insert conflicted on its idempotency key, but no order holds the key.");
            return Replay(winner, requestHash);
        }

        await outbox.TryDispatchAsync(accepted.OutboxId, OrderStore.QueueName, new WorkMessage(accepted.Acceptance.Id).ToJson(), cancellationToken);
        return new PlacementResult.Accepted(accepted.Acceptance.Answer);
    }

    private static PlacementResult Replay(StoredAcceptance earlier, byte[] requestHash) =>
        CryptographicOperations.FixedTimeEquals(earlier.RequestHash, requestHash)
            ? new PlacementResult.Accepted(earlier.Answer)
            : new PlacementResult.KeyReused();

    /// <returns>The skus without enough stock, or null when inventory could not answer for every line.</returns>
    private async Task<IReadOnlyList<string>?> CheckStockAsync(IReadOnlyList<ValidLine> lines, CancellationToken cancellationToken)
    {
        var shortSkus = new System.Collections.Concurrent.ConcurrentBag<string>();
        try
        {
            await Parallel.ForEachAsync(
                lines,
                new ParallelOptions { MaxDegreeOfParallelism = options.Value.StockCheckConcurrency, CancellationToken = cancellationToken },
                async (line, token) =>
                {
                    var stock = await inventory.GetStockAsync(line.Sku, token);
                    if (stock is null || stock.Available < line.Quantity)
                    {
                        shortSkus.Add(line.Sku);
                    }
                });
        }
        catch (Exception exception) when (Dependencies.IsServiceFailure(exception, cancellationToken))
        {
            return null;
        }

        return [.. shortSkus.Order(StringComparer.Ordinal)];
    }

    private async Task<FxRatesSnapshot?> RatesAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await fxRates.GetAsync(cancellationToken);
        }
        catch (Exception exception) when (Dependencies.IsServiceFailure(exception, cancellationToken))
        {
            return null;
        }
    }
}
