using System.Net;
using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

public sealed record StockLevel(string Sku, int Available, string Warehouse);

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
