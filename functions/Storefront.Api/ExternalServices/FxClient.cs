using System.ComponentModel;
using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// Marked immutable for HybridCache, which otherwise keeps a mutable type serialized and deserializes a copy for every
/// caller: every product read in another currency would parse the whole rate table again.
/// </summary>
[ImmutableObject(true)]
public sealed record FxRatesSnapshot(string Base, DateTimeOffset AsOf, IReadOnlyDictionary<string, decimal> Rates);

/// <summary>Exchange-rate service: <c>GET /rates?base=USD</c>.</summary>
public sealed class FxClient(HttpClient http)
{
    public const string ServiceName = "Fx";

    public async Task<FxRatesSnapshot> GetRatesAsync(string baseCurrency, CancellationToken cancellationToken) =>
        await http.GetFromJsonAsync($"rates?base={Uri.EscapeDataString(baseCurrency)}", ReadJsonContext.Default.FxRatesSnapshot, cancellationToken)
            ?? throw new HttpRequestException("FX answered with an empty body.");
}
