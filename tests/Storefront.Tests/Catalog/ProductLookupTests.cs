using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Storefront.Tests.Catalog;

[Collection(StorefrontCollection.Name)]
public sealed class ProductLookupTests(StorefrontStack stack)
{
    [Fact]
    public async Task Lookup_keeps_the_order_asked_and_lists_unknown_skus()
    {
        await stack.WaitUntilWholeInAsync("GBP");

        var response = await stack.Client.PostAsJsonAsync("api/products/lookup", new { skus = new[] { "SKU-00300", "NOPE-1", "SKU-00002", "SKU-09999" }, currency = "GBP" });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["SKU-00300", "SKU-00002", "SKU-09999"], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sku").GetString()));
        Assert.Equal(["NOPE-1"], body.GetProperty("notFound").EnumerateArray().Select(i => i.GetString()));
        Assert.All(body.GetProperty("items").EnumerateArray(), i => Assert.Equal("GBP", i.GetProperty("price").GetProperty("currency").GetString()));
    }

    [Fact]
    public async Task Lookup_of_fifty_skus_answers_every_one()
    {
        var skus = Enumerable.Range(1000, 50).Select(i => $"SKU-{i:D5}").ToArray();

        var body = await (await stack.Client.PostAsJsonAsync("api/products/lookup", new { skus })).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(skus, body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sku").GetString()));
    }

    [Theory]
    [InlineData("""{"skus":[]}""")]
    [InlineData("""{"skus":["SKU-00001","SKU-00001"]}""")]
    [InlineData("""{"skus":["bad sku"]}""")]
    [InlineData("""{"skus":[null]}""")]
    [InlineData("""{"skus":"SKU-00001"}""")]
    [InlineData("""{"skus":["SKU-00001"],"currency":"EURO"}""")]
    [InlineData("""{"skus":["SKU-00001"],"unexpected":1}""")]
    [InlineData("""{"skus":["SKU-00001"]""")]
    [InlineData("[]")]
    public async Task A_malformed_lookup_is_400_problem(string json)
    {
        var response = await stack.Client.PostAsync("api/products/lookup", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task More_than_fifty_skus_is_400_problem()
    {
        var skus = Enumerable.Range(1, 51).Select(i => $"SKU-{i:D5}").ToArray();

        var response = await stack.Client.PostAsJsonAsync("api/products/lookup", new { skus });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
