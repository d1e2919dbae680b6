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

    public async Task<PaymentResult> AuthorizeAsync(Guid orderId, string customerId, decimal amount, string currency, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "payments")
        {
            Content = JsonContent.Create(new { orderId, customerId, amount, currency }),
        };
        request.Headers.Add("Idempotency-Key", orderId.ToString());
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<PaymentResult>(cancellationToken)
            ?? throw new HttpRequestException("Payments answered with an empty body.");
    }
}

/// <summary>Shipping: <c>POST /shipments</c>, idempotent by key like payments.</summary>
public sealed class ShippingClient(HttpClient http)
{
    public const string ServiceName = "Shipping";

    public async Task<ShipmentResult> BookAsync(Guid orderId, string country, string postcode, IReadOnlyList<ShipmentItem> items, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "shipments")
        {
            Content = JsonContent.Create(new { orderId, country, postcode, items }),
        };
        request.Headers.Add("Idempotency-Key", orderId.ToString());
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<ShipmentResult>(cancellationToken)
            ?? throw new HttpRequestException("Shipping answered with an empty body.");
    }
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
