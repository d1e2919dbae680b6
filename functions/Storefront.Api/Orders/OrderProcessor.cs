using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Orders;

/// <summary>
/// The background half of an order: payment, then shipment, then a notification. Every step is safe to
/// repeat (the services deduplicate by the order id as idempotency key), so a redelivered message never
/// charges or ships twice; a finished order is left alone. Transient failures throw, and the queue retries.
/// </summary>
public sealed class OrderProcessor(
    OrderStore orders,
    PaymentsClient payments,
    ShippingClient shipping,
    NotificationsClient notifications,
    OutboxDispatcher outbox,
    IOptions<OrdersOptions> options,
    ILogger<OrderProcessor> logger)
{
    public async Task ProcessAsync(string message, CancellationToken cancellationToken)
    {
        var orderId = Parse(message) ?? throw new InvalidOperationException("The message is not an order message.");
        var order = await orders.ClaimAsync(orderId, options.Value.ProcessingLease, cancellationToken);
        if (order is null)
        {
            logger.LogInformation("Order {OrderId} is finished, unknown or being processed elsewhere; nothing to do", orderId);
            return;
        }

        try
        {
            var payment = await payments.AuthorizeAsync(order.Id, order.CustomerId, order.Total, order.Currency, cancellationToken);
            if (!payment.Authorized)
            {
                await orders.RejectAsync(order.Id, payment.PaymentId, payment.Reason ?? "payment declined", cancellationToken);
                logger.LogInformation("Order {OrderId} rejected: {Reason}", order.Id, payment.Reason);
                return;
            }

            await orders.RecordPaymentAsync(order.Id, payment.PaymentId, payment.Status, cancellationToken);
            var items = order.Lines.Select(l => new ShipmentItem(l.Sku, l.Quantity)).ToArray();
            var shipment = await shipping.BookAsync(order.Id, order.Country, order.Postcode, items, cancellationToken);
            if (await orders.ConfirmAsync(order.Id, shipment.ShipmentId, shipment.Carrier, shipment.EtaDays, cancellationToken))
            {
                await NotifyAsync(order, shipment, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await orders.ReleaseAfterFailureAsync(order.Id, exception.Message, CancellationToken.None);
            throw;
        }
    }

    /// <summary>The queue gave up on a message: its order fails, and keeps the message.</summary>
    public async Task FailAsync(string message, CancellationToken cancellationToken)
    {
        if (Parse(message) is { } orderId)
        {
            await orders.FailAsync(orderId, message, cancellationToken);
            logger.LogWarning("Order {OrderId} failed: its message reached the poison queue", orderId);
        }
        else
        {
            logger.LogError("A poison message is not an order message and is dropped: {Message}", message.Length > 500 ? message[..500] : message);
        }
    }

    /// <summary>Timer work: sends outbox messages the request path could not, and re-queues orders whose processing died.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var requeued = await orders.RequeueStuckAsync(options.Value.ProcessingLease, limit: 500, cancellationToken);
        var dispatched = await outbox.DispatchPendingAsync(options.Value.OutboxGracePeriod, cancellationToken);
        if (requeued > 0 || dispatched > 0)
        {
            logger.LogInformation("Order sweep: {Requeued} stuck orders re-queued, {Dispatched} outbox messages sent", requeued, dispatched);
        }
    }

    private static Guid? Parse(string message)
    {
        try
        {
            return JsonSerializer.Deserialize<OrderMessage>(message, JsonSerializerOptions.Web)?.OrderId is { } id && id != Guid.Empty ? id : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task NotifyAsync(OrderWork order, ShipmentResult shipment, CancellationToken cancellationToken)
    {
        try
        {
            await notifications.SendAsync(order.Email, "order-confirmed", new { orderId = order.Id, order.Total, order.Currency, shipment.Carrier, shipment.EtaDays }, cancellationToken);
        }
        catch (Exception exception) when (Dependencies.IsServiceFailure(exception, cancellationToken))
        {
            // The order is confirmed either way; a missed e-mail is not worth failing it.
            logger.LogWarning("Order {OrderId} confirmed, but its notification failed: {Error}", order.Id, exception.Message);
        }
    }
}
