using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

public sealed record PaymentResult(string PaymentId, string Status, string? Reason)
{
    public bool Authorized => Status == "authorized";
}

/// <summary>A payment after a capture or a void: <c>captured</c> or <c>voided</c>.</summary>
public sealed record PaymentState(string PaymentId, string Status);

public sealed record ShipmentResult(string ShipmentId, string Carrier, int EtaDays);

public sealed record ShipmentItem(string Sku, int Quantity);

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

/// <summary>Shipping: <c>POST /shipments</c>, idempotent by key like payments.</summary>
public sealed class ShippingClient(HttpClient http)
{
    public const string ServiceName = "Shipping";

    public Task<ShipmentResult> BookAsync(Guid orderId, string country, string postcode, IReadOnlyList<ShipmentItem> items, CancellationToken cancellationToken) =>
        IdempotentPost.SendAsync<ShipmentResult>(http, "shipments", orderId.ToString(), new { orderId, country, postcode, items }, cancellationToken);
}

/// <summary>Notifications: <c>POST /messages</c>.</summary>
public sealed class NotificationsClient(HttpClient http)
{
    public const string ServiceName = "Notifications";

    public async Task SendAsync(string to, string template, object data, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("messages", new { to, template, data }, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}

/// <summary>A POST carrying an <c>Idempotency-Key</c>, whose JSON answer is required.</summary>
internal static class IdempotentPost
{
    public static async Task<TResponse> SendAsync<TResponse>(HttpClient http, string path, string idempotencyKey, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<TResponse>(cancellationToken)
            ?? throw new HttpRequestException($"POST /{path} answered with an empty body.");
    }
}
