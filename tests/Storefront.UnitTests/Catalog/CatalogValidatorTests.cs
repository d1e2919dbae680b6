using Storefront.Api.Catalog;

namespace Storefront.UnitTests.Catalog;

public sealed class CatalogValidatorTests
{
    [Theory]
    [InlineData(null, "USD")]
    [InlineData("", "USD")]
    [InlineData("eur", "EUR")]
    public void A_read_s_currency_is_upper_cased_and_defaults_to_usd(string? currency, string expected)
    {
        var (read, errors) = CatalogValidator.ValidateRead("SKU-00042", currency);

        Assert.Empty(errors);
        Assert.Equal(new ProductRead("SKU-00042", expected), read);
    }

    [Fact]
    public void A_read_with_a_bad_sku_and_a_bad_currency_names_both()
    {
        var (read, errors) = CatalogValidator.ValidateRead("SKU_00042", "EURO");

        Assert.Null(read);
        Assert.Equal(["currency", "sku"], errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_page_without_parameters_is_the_default_size_from_the_start()
    {
        Assert.Equal(new ProductListQuery(CatalogValidator.DefaultPageSize, null, null), CatalogValidator.ValidateList(null, null, null).Query);
        Assert.Equal(new ProductListQuery(CatalogValidator.DefaultPageSize, null, null), CatalogValidator.ValidateList(null, "", "").Query);
    }

    [Fact]
    public void A_page_continues_after_the_sku_its_cursor_names()
    {
        var (query, errors) = CatalogValidator.ValidateList("100", ProductCursor.Encode("SKU-00100"), "lamp");

        Assert.Empty(errors);
        Assert.Equal(new ProductListQuery(CatalogValidator.MaxPageSize, "SKU-00100", "lamp"), query);
    }

    [Theory]
    [InlineData("0", null, null, "limit")]
    [InlineData("101", null, null, "limit")]
    [InlineData("ten", null, null, "limit")]
    [InlineData("", null, null, "limit")]
    [InlineData("+5", null, null, "limit")]
    [InlineData(null, "%%%", null, "after")]
    [InlineData(null, null, "a\0b", "search")]
    public void A_bad_page_parameter_is_named(string? limit, string? after, string? search, string field)
    {
        var (query, errors) = CatalogValidator.ValidateList(limit, after, search);

        Assert.Null(query);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void A_search_longer_than_the_limit_is_refused()
    {
        Assert.Empty(CatalogValidator.ValidateList(null, null, new string('a', CatalogValidator.MaxSearchLength)).Errors);
        Assert.Equal(["search"], CatalogValidator.ValidateList(null, null, new string('a', CatalogValidator.MaxSearchLength + 1)).Errors.Keys);
    }

    public static TheoryData<ProductLookupRequest, string[]> BadLookups() => new()
    {
        { new ProductLookupRequest(null, null), ["skus"] },
        { new ProductLookupRequest([], "EUR"), ["skus"] },
        { new ProductLookupRequest([.. Enumerable.Range(1, CatalogValidator.MaxLookupSkus + 1).Select(i => $"SKU-{i:D5}")], null), ["skus"] },
        { new ProductLookupRequest(["SKU-00001", "bad sku"], null), ["skus"] },
        { new ProductLookupRequest(["SKU-00001", "SKU-00001"], null), ["skus"] },
        { new ProductLookupRequest(["SKU-00001"], "E1R"), ["currency"] },
        { new ProductLookupRequest([], "E1R"), ["currency", "skus"] },
    };

    [Theory]
    [MemberData(nameof(BadLookups))]
    public void A_bad_lookup_names_every_bad_field(ProductLookupRequest request, string[] fields)
    {
        var (lookup, errors) = CatalogValidator.ValidateLookup(request);

        Assert.Null(lookup);
        Assert.Equal(fields, errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_lookup_of_the_most_skus_is_accepted()
    {
        string[] skus = [.. Enumerable.Range(1, CatalogValidator.MaxLookupSkus).Select(i => $"SKU-{i:D5}")];

        var (lookup, errors) = CatalogValidator.ValidateLookup(new ProductLookupRequest(skus, "gbp"));

        Assert.Empty(errors);
        Assert.Equal(skus, lookup!.Skus);
        Assert.Equal("GBP", lookup.Currency);
    }
}
