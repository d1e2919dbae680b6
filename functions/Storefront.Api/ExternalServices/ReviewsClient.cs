using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

public sealed record RatingSummary(string Sku, double Average, int Count);

/// <summary>Reviews service: <c>GET /reviews/{sku}/summary</c>.</summary>
public sealed class ReviewsClient(HttpClient http)
{
    public const string ServiceName = "Reviews";

    public async Task<RatingSummary> GetSummaryAsync(string sku, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync($"reviews/{Uri.EscapeDataString(sku)}/summary", ReadJsonContext.Default.RatingSummary, cancellationToken)
            ?? throw new HttpRequestException("Reviews answered with an empty body.");
}
