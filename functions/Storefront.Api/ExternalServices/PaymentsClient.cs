namespace Storefront.Api.ExternalServices;

public sealed record PaymentResult(string PaymentId, string Status, string? Reason)
{
    public bool Authorized => Status == "authorized";
}

/// <summary>A payment after a capture or a void: <c>captured</c> or <c>voided</c>.</summary>
public sealed record PaymentState(string PaymentId, string Status);

/// <summary>
/// Payments as a card processor runs them: <c>POST /payments</c> authorizes, <c>POST /payments/{id}/capture</c> takes the
/// money, <c>POST /payments/{id}/void</c> releases an uncaptured authorization. Each call carries an idempotency key
/// derived from the order id, so a repeated call returns the first result without acting again: queue redeliveries
/// and retries call them freely. A capture of a voided payment, or a void of a captured one, is refused (409).
/// </summary>
public sealed class PaymentsClient(HttpClient http)
{
    public const string ServiceName = "Payments";

    public Task<PaymentResult> AuthorizeAsync(Guid orderId, string customerId, decimal amount, string currency, CancellationToken cancellationToken) =>
        IdempotentPost.SendAsync<PaymentResult>(http, "payments", orderId.ToString(), new { orderId, customerId, amount, currency }, cancellationToken);

    public Task<PaymentState> CaptureAsync(string paymentId, Guid orderId, CancellationToken cancellationToken) =>
        IdempotentPost.SendAsync<PaymentState>(http, $"payments/{Uri.EscapeDataString(paymentId)}/capture", $"{orderId}:capture", new { orderId }, cancellationToken);

    public Task<PaymentState> VoidAsync(string paymentId, Guid orderId, CancellationToken cancellationToken) =>
        IdempotentPost.SendAsync<PaymentState>(http, $"payments/{Uri.EscapeDataString(paymentId)}/void", $"{orderId}:void", new { orderId }, cancellationToken);
}
