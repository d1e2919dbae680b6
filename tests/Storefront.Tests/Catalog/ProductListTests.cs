using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.Tests.Catalog;

[Collection(StorefrontCollection.Name)]
public sealed class ProductListTests(StorefrontStack stack)
{
    [Fact]
    public async Task Paging_through_the_whole_catalog_has_no_gaps_and_no_duplicates()
    {
        var seen = new List<string>();
        string? next = null;
        for (var page = 0; page < 200; page++)
        {
            var url = next is null ? "api/products?limit=100" : $"api/products?limit=100&after={next}";
            var body = await stack.Client.GetFromJsonAsync<JsonElement>(url);
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sku").GetString()!));
            next = body.GetProperty("next").GetString();
            if (next is null)
            {
                break;
            }
        }

        await using var command = stack.Database.CreateCommand("SELECT sku FROM products ORDER BY sku");
        var expected = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                expected.Add(reader.GetString(0));
            }
        }

        Assert.Null(next);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task Search_filters_by_name_prefix_case_insensitively()
    {
        var body = await stack.Client.GetFromJsonAsync<JsonElement>("api/products?search=COMPACT%20b&limit=100");
        var names = body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()!).ToArray();

        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.StartsWith("compact b", n, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Search_text_with_like_wildcards_is_matched_literally()
    {
        var body = await stack.Client.GetFromJsonAsync<JsonElement>("api/products?search=%25");

        Assert.Empty(body.GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("api/products?limit=0")]
    [InlineData("api/products?limit=101")]
    [InlineData("api/products?limit=ten")]
    [InlineData("api/products?after=%%%")]
    public async Task Bad_paging_parameters_are_400_problem(string url)
    {
        var response = await stack.Client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
