using System.Globalization;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Catalog;

/// <summary>Checks catalog requests field by field; every problem is reported, keyed by the field's name.</summary>
public static class CatalogValidator
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;
    public const int MaxSearchLength = 100;
    public const int MaxLookupSkus = 50;

    private const string SkuRule = "A sku is 1 to 64 letters, digits or hyphens.";
    private const string CurrencyRule = "A currency is a three-letter ISO 4217 code.";

    public static (ProductRead? Read, Dictionary<string, string[]> Errors) ValidateRead(string sku, string? currency)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Formats.IsSku(sku))
        {
            errors["sku"] = [SkuRule];
        }

        var code = CurrencyOf(currency, errors);
        return errors.Count > 0 ? (null, errors) : (new ProductRead(sku, code!), errors);
    }

    /// <param name="limit">The query's limit as sent (null when absent: a page of <see cref="DefaultPageSize"/>).</param>
    /// <param name="after">The first value of the query's cursor, if any.</param>
    public static (ProductListQuery? Query, Dictionary<string, string[]> Errors) ValidateList(string? limit, string? after, string? search)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var pageSize = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            errors["limit"] = [$"limit is a whole number from 1 to {MaxPageSize}."];
        }

        string? afterSku = null;
        if (!string.IsNullOrEmpty(after) && (afterSku = ProductCursor.Decode(after)) is null)
        {
            errors["after"] = ["after must be the 'next' value of a previous page."];
        }

        search ??= string.Empty;
        if (search.Length > MaxSearchLength)
        {
            errors["search"] = [$"search is at most {MaxSearchLength} characters."];
        }
        else if (Formats.HasNul(search))
        {
            errors["search"] = ["search must not contain a NUL character."];
        }

        return errors.Count > 0 ? (null, errors) : (new ProductListQuery(pageSize, afterSku, search.Length == 0 ? null : search), errors);
    }

    public static (ProductLookup? Lookup, Dictionary<string, string[]> Errors) ValidateLookup(ProductLookupRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var skus = request.Skus;
        if (skus is null || skus.Count is < 1 or > MaxLookupSkus)
        {
            errors["skus"] = [$"skus is a list of 1 to {MaxLookupSkus} skus."];
        }
        else if (!skus.All(Formats.IsSku))
        {
            errors["skus"] = [SkuRule];
        }
        else if (skus.Distinct(StringComparer.Ordinal).Count() != skus.Count)
        {
            errors["skus"] = ["skus must be distinct."];
        }

        var code = CurrencyOf(request.Currency, errors);
        return errors.Count > 0 ? (null, errors) : (new ProductLookup(skus!, code!), errors);
    }

    /// <returns>The upper-case code (USD when absent), or null, with the error recorded, when malformed.</returns>
    private static string? CurrencyOf(string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return FxRates.BaseCurrency;
        }

        if (Formats.IsCurrencyCode(value))
        {
            return value.ToUpperInvariant();
        }

        errors["currency"] = [CurrencyRule];
        return null;
    }
}
