using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

public sealed record PaymentResult(string PaymentId, string Status, string? Reason)
{
    public bool Authorized => Status == "authorized";
}

public sealed record ShipmentResult(string ShipmentId, string Carrier, int EtaDays);

public sealed record ShipmentItem(string Sku, int Quantity);

/// <summary>
/// Payments: <c>POST /payments</c>. The idempotency key makes a repeated call return the first
/// result without charging again, which is what lets queue redeliveries and retries call it freely.
/// </summary>
public sealed class PaymentsClient(HttpClient http)
{
    public const string ServiceName = "Payments";

    public Task<PaymentResult> AuthorizeAsync(Guid orderId, string customerId, decimal amount, string currency, CancellationToken cancellationToken) =>
        IdempotentPost.SendAsync<PaymentResult>(http, "payments", orderId.ToString(), new { orderId, customerId, amount, currency }, cancellationToken);
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
