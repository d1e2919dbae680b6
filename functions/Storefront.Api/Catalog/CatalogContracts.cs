using Storefront.Api.ExternalServices;

namespace Storefront.Api.Catalog;

public sealed record Money(decimal Amount, string Currency)
{
    // ISO 4217 minor units where they are not 2.
    private static readonly Dictionary<string, int> MinorUnits = new(StringComparer.Ordinal) { ["JPY"] = 0, ["KRW"] = 0, ["ISK"] = 0 };

    public static Money Usd(decimal amount) => new(amount, FxRates.BaseCurrency);

    public static Money Convert(decimal amountUsd, string currency, decimal rate) =>
        new(Math.Round(amountUsd * rate, MinorUnits.GetValueOrDefault(currency, 2), MidpointRounding.AwayFromZero), currency);
}

public sealed record StockView(int Available, string Warehouse);

public sealed record RatingView(double Average, int Count);

/// <summary>One product as a product page needs it; a null part was not available in time (see Degraded).</summary>
public sealed record ProductDetails(
    string Sku,
    string Name,
    string Description,
    Money Price,
    StockView? Stock,
    RatingView? Rating,
    IReadOnlyList<string> Degraded);

public sealed record ProductListItem(string Sku, string Name, Money Price);

public sealed record ProductPage(IReadOnlyList<ProductListItem> Items, string? Next);

public sealed record ProductLookupRequest(IReadOnlyList<string>? Skus, string? Currency);

/// <summary>A product read as validated: a well-formed sku, an upper-case currency code.</summary>
public sealed record ProductRead(string Sku, string Currency);

/// <summary>A page request as validated: the page size, the sku to continue after, the search text (null: none).</summary>
public sealed record ProductListQuery(int Limit, string? After, string? Search);

/// <summary>A lookup as validated: distinct well-formed skus, an upper-case currency code.</summary>
public sealed record ProductLookup(IReadOnlyList<string> Skus, string Currency);

public sealed record ProductLookupResponse(IReadOnlyList<ProductDetails> Items, IReadOnlyList<string> NotFound);
