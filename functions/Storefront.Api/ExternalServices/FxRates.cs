using Microsoft.Extensions.Caching.Hybrid;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// USD exchange rates, cached: HybridCache runs one factory call per key however many requests
/// miss at once (stampede protection), and a failed call is not cached, so the next request retries.
/// </summary>
public sealed class FxRates(HybridCache cache, FxClient client)
{
    public const string BaseCurrency = "USD";

    private static readonly HybridCacheEntryOptions EntryOptions = new()
    {
        Expiration = TimeSpan.FromMinutes(5),
        LocalCacheExpiration = TimeSpan.FromMinutes(5),
    };

    public ValueTask<FxRatesSnapshot> GetAsync(CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync(
            $"fx-rates:{BaseCurrency}",
            client,
            static (fx, token) => new ValueTask<FxRatesSnapshot>(fx.GetRatesAsync(BaseCurrency, token)),
            EntryOptions,
            cancellationToken: cancellationToken);
}
