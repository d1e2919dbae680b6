using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Orders;

/// <summary>
/// The background half of an order: authorize the payment, book the shipment, commit the stock reserved at acceptance,
/// capture the payment, confirm, notify. Every step is safe to repeat (the services deduplicate by idempotency keys
/// derived from the order id, and the order's own writes are guarded by its lease), so a retry or redelivered message
/// never charges, ships or sells twice and resumes where the last attempt stopped. An order that ends without being
/// confirmed gives its stock back and has its authorization voided; the order reaches its final status only after.
/// </summary>
public sealed class OrderProcessor(
    OrderStore orders,
    PaymentsClient payments,
    ReservationsClient reservations,
    ShippingClient shipping,
    NotificationsClient notifications,
    IOptions<RecoveryOptions> recovery,
    ILogger<OrderProcessor> logger) : IQueuedWork<OrderWork>
{
    public string QueueName => OrderStore.QueueName;

    public Task<Claim<OrderWork>> ClaimAsync(Guid id, Guid leaseToken, CancellationToken cancellationToken) =>
        orders.ClaimAsync(id, leaseToken, recovery.Value.Lease, cancellationToken);

    public Task<bool> RenewLeaseAsync(Guid id, Guid leaseToken, CancellationToken cancellationToken) =>
        orders.RenewLeaseAsync(id, leaseToken, recovery.Value.Lease, cancellationToken);

    public DateTimeOffset? FirstFailureAt(OrderWork item) => item.FirstFailureAt;

    public Task RecordRetryAsync(Guid id, Guid leaseToken, string reason, TimeSpan delay, CancellationToken cancellationToken) =>
        orders.RecordRetryAsync(id, leaseToken, reason, delay, cancellationToken);

    public async Task RunAsync(OrderWork order, Guid leaseToken, WorkProgress progress, CancellationToken cancellationToken)
    {
        if (order.FailureReason is { } decided)
        {
            // An earlier attempt decided to fail the order but could not finish undoing it.
            await FailAsync(order, leaseToken, decided, cancellationToken);
            return;
        }

        var paymentId = order.PaymentId;
        if (order.PaymentStatus is null)
        {
            progress.Step = "authorizing the payment";
            var payment = await payments.AuthorizeAsync(order.Id, order.CustomerId, order.Total, order.Currency, cancellationToken);
            if (!payment.Authorized)
            {
                progress.Step = "releasing the stock";
                await ReleaseStockAsync(order.Id, order.ReservationStatus, cancellationToken);
                await orders.RejectAsync(order.Id, leaseToken, payment.PaymentId, payment.Reason ?? "payment declined", cancellationToken);
                logger.LogInformation("Order {OrderId} rejected: {Reason}", order.Id, payment.Reason);
                return;
            }

            await orders.RecordAuthorizationAsync(order.Id, leaseToken, payment.PaymentId, cancellationToken);
            paymentId = payment.PaymentId;
        }

        progress.Step = "booking the shipment";
        var items = order.Lines.Select(l => new ShipmentItem(l.Sku, l.Quantity)).ToArray();
        var shipment = await shipping.BookAsync(order.Id, order.Country, order.Postcode, items, cancellationToken);

        if (order.ReservationStatus == ReservationStatus.Held)
        {
            progress.Step = "committing the stock";
            await reservations.CommitAsync(order.Id, cancellationToken);
        }

        progress.Step = "capturing the payment";
        await payments.CaptureAsync(paymentId!, order.Id, cancellationToken);

        progress.Step = "confirming the order";
        await orders.ConfirmAsync(order.Id, leaseToken, shipment, cancellationToken);
        await NotifyAsync(order, shipment, cancellationToken);
    }

    public async Task FailAsync(OrderWork order, Guid leaseToken, string reason, CancellationToken cancellationToken)
    {
        var (paymentId, paymentStatus, reservationStatus) = await orders.DecideFailureAsync(order.Id, leaseToken, reason, cancellationToken);
        if (paymentStatus == PaymentStatus.Authorized)
        {
            try
            {
                await payments.VoidAsync(paymentId!, order.Id, cancellationToken);
                paymentStatus = PaymentStatus.Voided;
            }
            catch (Exception exception) when (DependencyFailures.IsPermanentRefusal(exception))
            {
                // The processor will not void it (already captured, or gone): an operator must look at it.
                logger.LogError("Order {OrderId} fails, but its payment {PaymentId} could not be voided: {Error}", order.Id, paymentId, exception.Message);
            }
        }

        try
        {
            reservationStatus = await ReleaseStockAsync(order.Id, reservationStatus, cancellationToken);
        }
        catch (Exception exception) when (DependencyFailures.IsPermanentRefusal(exception))
        {
            // Committed already (a capture refused after the commit): the units stay sold; an operator must look at it.
            logger.LogError("Order {OrderId} fails, but its stock could not be released: {Error}", order.Id, exception.Message);
        }

        await orders.FailAsync(order.Id, leaseToken, paymentStatus, reservationStatus, cancellationToken);
    }

    /// <returns>The reservation's status after the call.</returns>
    private async Task<string?> ReleaseStockAsync(Guid orderId, string? reservationStatus, CancellationToken cancellationToken)
    {
        if (reservationStatus != ReservationStatus.Held)
        {
            return reservationStatus;
        }

        await reservations.ReleaseAsync(orderId, cancellationToken);
        return ReservationStatus.Released;
    }

    private async Task NotifyAsync(OrderWork order, ShipmentResult shipment, CancellationToken cancellationToken)
    {
        try
        {
            await notifications.SendAsync(order.Email, "order-confirmed", new { orderId = order.Id, order.Total, order.Currency, shipment.Carrier, shipment.EtaDays }, cancellationToken);
        }
        catch (Exception exception) when (DependencyFailures.IsServiceFailure(exception, cancellationToken))
        {
            // The order is confirmed either way; a missed e-mail is not worth failing it.
            logger.LogWarning("Order {OrderId} confirmed, but its notification failed: {Error}", order.Id, exception.Message);
        }
    }
}
