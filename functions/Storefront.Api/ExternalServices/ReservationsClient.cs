using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.Api.ExternalServices;

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
