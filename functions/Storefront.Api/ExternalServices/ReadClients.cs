using System.ComponentModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Storefront.Api.ExternalServices;

public sealed record StockLevel(string Sku, int Available, string Warehouse);

public sealed record RatingSummary(string Sku, double Average, int Count);

/// <summary>
/// Marked immutable for HybridCache, which otherwise keeps a mutable type serialized and deserializes a copy for every
/// caller: every product read in another currency would parse the whole rate table again.
/// </summary>
[ImmutableObject(true)]
public sealed record FxRatesSnapshot(string Base, DateTimeOffset AsOf, IReadOnlyDictionary<string, decimal> Rates);

/// <summary>Inventory service: <c>GET /stock/{sku}</c>.</summary>
public sealed class InventoryClient(HttpClient http)
{
    public const string ServiceName = "Inventory";

    /// <returns>The stock level, or null when inventory does not know the sku.</returns>
    public async Task<StockLevel?> GetStockAsync(string sku, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"stock/{Uri.EscapeDataString(sku)}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync(ReadJsonContext.Default.StockLevel, cancellationToken)
            ?? throw new HttpRequestException("Inventory answered with an empty body.");
    }
}

/// <summary>Reviews service: <c>GET /reviews/{sku}/summary</c>.</summary>
public sealed class ReviewsClient(HttpClient http)
{
    public const string ServiceName = "Reviews";

    public async Task<RatingSummary> GetSummaryAsync(string sku, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync($"reviews/{Uri.EscapeDataString(sku)}/summary", ReadJsonContext.Default.RatingSummary, cancellationToken)
            ?? throw new HttpRequestException("Reviews answered with an empty body.");
}

/// <summary>Exchange-rate service: <c>GET /rates?base=USD</c>.</summary>
public sealed class FxClient(HttpClient http)
{
    public const string ServiceName = "Fx";

    public async Task<FxRatesSnapshot> GetRatesAsync(string baseCurrency, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync($"rates?base={Uri.EscapeDataString(baseCurrency)}", ReadJsonContext.Default.FxRatesSnapshot, cancellationToken)
            ?? throw new HttpRequestException("FX answered with an empty body.");
}

/// <summary>
/// The read services' payloads, parsed by code generated at build time (the web defaults that ReadFromJsonAsync uses
/// otherwise): two of them are parsed on every product read.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StockLevel))]
[JsonSerializable(typeof(RatingSummary))]
[JsonSerializable(typeof(FxRatesSnapshot))]
internal sealed partial class ReadJsonContext : JsonSerializerContext;
