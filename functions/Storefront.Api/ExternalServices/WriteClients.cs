using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

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

/// <summary>The outcome of reserving an order's lines: all held, or the skus that are short (nothing held).</summary>
public abstract record ReservationResult
{
    public sealed record Held : ReservationResult;

    public sealed record Short(IReadOnlyList<string> Skus) : ReservationResult;
}

/// <summary>
/// Stock reservations at the inventory service: <c>PUT /reservations/{orderId}</c> holds every line or none,
/// <c>/commit</c> sells the units when the order is confirmed, <c>/release</c> gives them back when it is not. The
/// order id is the reservation's id, so every call is idempotent and the app can always release what it may hold.
/// </summary>
public sealed class ReservationsClient(HttpClient http)
{
    public async Task<ReservationResult> ReserveAsync(Guid orderId, IEnumerable<(string Sku, int Quantity)> lines, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var body = new { orderId, lines = lines.Select(l => new { sku = l.Sku, quantity = l.Quantity }), ttlSeconds = (int)ttl.TotalSeconds };
        using var response = await http.PutAsJsonAsync($"reservations/{orderId}", body, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return new ReservationResult.Short(
                problem.TryGetProperty("shortSkus", out var skus) && skus.ValueKind == JsonValueKind.Array ? [.. skus.EnumerateArray().Select(s => s.GetString() ?? string.Empty)] : []);
        }

        response.EnsureSuccessStatusCode();
        return new ReservationResult.Held();
    }

    public async Task CommitAsync(Guid orderId, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"reservations/{orderId}/commit", null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Gives the units back.</summary>
    /// <returns>
    /// False when the service does not know the reservation: it holds nothing now, but a reservation call still on its
    /// way may yet hold units under this id.
    /// </returns>
    public async Task<bool> ReleaseAsync(Guid orderId, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"reservations/{orderId}/release", null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        response.EnsureSuccessStatusCode();
        return true;
    }
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
