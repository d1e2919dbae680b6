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
/// Accepting an order: validate, then price it (Postgres), reserve its lines (inventory) and get the rate (FX)
/// concurrently, store it with its outbox message in one transaction, and hand the message to the queue. An order
/// that is not accepted gives its reservation back. The caller gets its answer without waiting for payment,
/// shipping or notification.
/// </summary>
public sealed class OrderPlacement(
    OrderStore orders,
    ProductStore products,
    ReservationsClient reservations,
    FxRates fxRates,
    OutboxDispatcher outbox,
    ReservationReleases releases,
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

        // The order id comes first: it is the reservation's id, so whatever happens next, what it holds can be released.
        var orderId = Guid.CreateVersion7();
        var pricesTask = products.GetManyAsync([.. order.Lines.Select(l => l.Sku)], cancellationToken);
        var reservationTask = ReserveAsync(orderId, order.Lines, cancellationToken);
        var ratesTask = order.Currency == FxRates.BaseCurrency ? Task.FromResult<FxRatesSnapshot?>(null) : RatesAsync(cancellationToken);
        PlacementResult? refusal;
        try
        {
            await Task.WhenAll(pricesTask, reservationTask, ratesTask);
            if (await reservationTask is ReservationResult.Short && await releases.SettleEarlierAttemptsAsync(idempotencyKey, cancellationToken))
            {
                // An earlier attempt of this request held units that it owed back, and they are back now: they may be
                // the ones this order needs. The short reservation held nothing, so a new id starts clean.
                orderId = Guid.CreateVersion7();
                reservationTask = ReserveAsync(orderId, order.Lines, cancellationToken);
                await reservationTask;
            }

            refusal = Refusal(order, await pricesTask, await reservationTask, await ratesTask);
        }
        catch
        {
            await releases.ReleaseAsync(orderId, idempotencyKey, reservationOutcomeKnown: reservationTask.IsCompletedSuccessfully && await reservationTask is not null);
            throw;
        }

        if (refusal is not null)
        {
            if (await reservationTask is not ReservationResult.Short and var reservation)
            {
                await releases.ReleaseAsync(orderId, idempotencyKey, reservationOutcomeKnown: reservation is not null);
            }

            return refusal;
        }

        var prices = await pricesTask;
        var rate = order.Currency == FxRates.BaseCurrency ? 1m : (await ratesTask)!.Rates[order.Currency];
        var unitPrices = order.Lines.Select(l => Money.Convert(prices[l.Sku].PriceUsd, order.Currency, rate).Amount).ToArray();
        var total = order.Lines.Select((l, i) => l.Quantity * unitPrices[i]).Sum();
        (StoredAcceptance Acceptance, long OutboxId)? stored;
        try
        {
            stored = await orders.InsertAsync(new NewOrder(orderId, idempotencyKey, requestHash, order, unitPrices, total), cancellationToken);
        }
        catch
        {
            // Not stored, or not known to be (then the client's retry with its key finds it).
            await releases.ReleaseAsync(orderId, idempotencyKey, reservationOutcomeKnown: true);
            throw;
        }

        if (stored is not { } accepted)
        {
            // A concurrent request with the same key won the insert; answer as it did.
            await releases.ReleaseAsync(orderId, idempotencyKey, reservationOutcomeKnown: true);
            var winner = await orders.FindByIdempotencyKeyAsync(idempotencyKey, cancellationToken)
                ?? throw new InvalidOperationException("An order insert conflicted on its idempotency key, but no order holds the key.");
            return Replay(winner, requestHash);
        }

        await outbox.TryDispatchAsync(accepted.OutboxId, OrderStore.QueueName, new WorkMessage(accepted.Acceptance.Id).ToJson(), cancellationToken);
        return new PlacementResult.Accepted(accepted.Acceptance.Answer);
    }

    /// <summary>Why the order cannot be accepted as it stands, or null when it can.</summary>
    private static PlacementResult? Refusal(ValidOrder order, Dictionary<string, ProductRow> prices, ReservationResult? reservation, FxRatesSnapshot? rates)
    {
        var unknown = order.Lines.Select((line, index) => (line, index)).Where(l => !prices.ContainsKey(l.line.Sku)).ToArray();
        if (unknown.Length > 0)
        {
            return new PlacementResult.Invalid(unknown.ToDictionary(u => $"lines[{u.index}].sku", u => new[] { $"'{u.line.Sku}' is not in the catalog." }));
        }

        switch (reservation)
        {
            case null:
                return new PlacementResult.DependencyUnavailable("inventory");
            case ReservationResult.Short shortage:
                return new PlacementResult.InsufficientStock([.. shortage.Skus.Order(StringComparer.Ordinal)]);
        }

        if (order.Currency != FxRates.BaseCurrency)
        {
            if (rates is null)
            {
                return new PlacementResult.DependencyUnavailable("fx");
            }

            if (!rates.Rates.ContainsKey(order.Currency))
            {
                return new PlacementResult.Invalid(new() { ["currency"] = [$"'{order.Currency}' is not a supported currency."] });
            }
        }

        return null;
    }

    private static PlacementResult Replay(StoredAcceptance earlier, byte[] requestHash) =>
        CryptographicOperations.FixedTimeEquals(earlier.RequestHash, requestHash)
            ? new PlacementResult.Accepted(earlier.Answer)
            : new PlacementResult.KeyReused();

    /// <returns>The reservation's outcome, or null when inventory could not answer.</returns>
    private async Task<ReservationResult?> ReserveAsync(Guid orderId, IReadOnlyList<ValidLine> lines, CancellationToken cancellationToken)
    {
        try
        {
            return await reservations.ReserveAsync(orderId, lines.Select(l => (l.Sku, l.Quantity)), options.Value.ReservationTtl, cancellationToken);
        }
        catch (Exception exception) when (DependencyFailures.IsServiceFailure(exception, cancellationToken))
        {
            return null;
        }
    }

    private async Task<FxRatesSnapshot?> RatesAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await fxRates.GetAsync(cancellationToken);
        }
        catch (Exception exception) when (DependencyFailures.IsServiceFailure(exception, cancellationToken))
        {
            return null;
        }
    }
}
