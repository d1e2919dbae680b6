using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Storefront.FunctionsHost;

namespace Storefront.Tests.OpenApi;

/// <summary>
/// The OpenAPI document the app serves is the API's contract: real responses of the running app validate against it,
/// what the API rejects the document does not allow, and every HTTP function the host loaded is documented.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed partial class OpenApiContractTests(StorefrontStack stack) : IAsyncLifetime
{
    private const string LookupPath = "api/products/lookup";

    /// <summary>Real requests, by name, and the status each must get; each exchange must be one the document describes.</summary>
    private static readonly Dictionary<string, (Func<HttpRequestMessage> Request, HttpStatusCode Status)> Exchanges = new()
    {
        ["a product in EUR"] = (() => Get("api/products/SKU-00042?currency=EUR"), HttpStatusCode.OK),
        ["a product in USD"] = (() => Get("api/products/SKU-00007"), HttpStatusCode.OK),
        ["an unknown sku"] = (() => Get("api/products/NO-SUCH-SKU"), HttpStatusCode.NotFound),
        ["a malformed sku"] = (() => Get("api/products/SKU_00042"), HttpStatusCode.BadRequest),
        ["a malformed currency"] = (() => Get("api/products/SKU-00042?currency=EURO"), HttpStatusCode.BadRequest),
        ["an unsupported currency"] = (() => Get("api/products/SKU-00042?currency=XYZ"), HttpStatusCode.BadRequest),
        ["a page with a next cursor"] = (() => Get("api/products?limit=5"), HttpStatusCode.OK),
        ["a search page without a next cursor"] = (() => Get("api/products?search=%25&limit=10"), HttpStatusCode.OK),
        ["a page size out of range"] = (() => Get("api/products?limit=101"), HttpStatusCode.BadRequest),
        ["a malformed cursor"] = (() => Get("api/products?after=%25%25%25"), HttpStatusCode.BadRequest),
        ["a lookup with unknown skus"] = (() => Lookup("""{"skus":["SKU-00300","NOPE-1","SKU-00002"],"currency":"GBP"}"""), HttpStatusCode.OK),
        ["a lookup with duplicate skus"] = (() => Lookup("""{"skus":["SKU-00001","SKU-00001"]}"""), HttpStatusCode.BadRequest),
        ["a lookup with an undeclared property"] = (() => Lookup("""{"skus":["SKU-00001"],"unexpected":1}"""), HttpStatusCode.BadRequest),
        ["a lookup whose body is null"] = (() => Lookup("null"), HttpStatusCode.BadRequest),
        ["a lookup that is not JSON"] = (() => Lookup("""{"skus":["SKU-00001"]}""", "text/plain"), HttpStatusCode.UnsupportedMediaType),
        ["a lookup over 256 KiB"] = (() => Lookup($$"""{"skus":["{{new string('A', 300 * 1024)}}"]}"""), HttpStatusCode.RequestEntityTooLarge),
        ["health"] = (() => Get("api/health"), HttpStatusCode.OK),
        ["the OpenAPI document"] = (() => Get(ApiContract.DocumentPath), HttpStatusCode.OK),
    };

    public static TheoryData<string> ExchangeNames => [.. Exchanges.Keys];

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task The_document_is_served_as_cacheable_yaml_and_is_a_valid_OpenAPI_3_1_document()
    {
        using var response = await stack.Client.GetAsync(ApiContract.DocumentPath);
        var contract = ApiContract.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/yaml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);

        var diagnostic = contract.Read.Diagnostic!;
        Assert.True(diagnostic.Errors.Count == 0, "Microsoft.OpenApi: " + string.Join("; ", diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.True(diagnostic.Warnings.Count == 0, "Microsoft.OpenApi: " + string.Join("; ", diagnostic.Warnings.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal(Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1, diagnostic.SpecificationVersion);
        Assert.Equal("Storefront API", contract.Read.Document!.Info.Title);
        Assert.Empty(contract.PathParameterMismatches());
        var operationIds = contract.Operations().Select(o => o.Operation["operationId"]?.GetValue<string>()).ToList();
        Assert.DoesNotContain(null, operationIds);
        Assert.Equal(operationIds.Count, operationIds.Distinct(StringComparer.Ordinal).Count());

        // The same document again, conditionally: 304 with the same validators, no body.
        using var again = new HttpRequestMessage(HttpMethod.Get, ApiContract.DocumentPath);
        again.Headers.IfNoneMatch.Add(etag);
        using var notModified = await stack.Client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag);
        await contract.AssertConformsAsync(notModified);
    }

    [Fact]
    public async Task Every_http_function_is_documented_with_its_route_method_name_and_authorization_and_nothing_else_is()
    {
        var contract = await ApiContract.FetchAsync(stack.Client);
        var functions = stack.Host.Functions.Where(f => f.Kind == TriggerKind.Http).ToList();
        Assert.NotEmpty(functions);

        var served = new HashSet<(string Path, string Method)>();
        var problems = new List<string>();
        foreach (var function in functions)
        {
            // "api/products/{sku:alpha}" or "api/files/{*rest}" -> "/products/{sku}", "/files/{rest}"
            var route = "/" + RouteParameter().Replace(stack.Host.RouteOf(function), "{$1}");
            if (!route.StartsWith(contract.BasePath + "/", StringComparison.Ordinal))
            {
                problems.Add($"{function.Name}: its route {route} is not under the servers' path {contract.BasePath}.");
                continue;
            }

            var path = route[contract.BasePath.Length..];
            if (function.HttpMethods.Count == 0)
            {
                problems.Add($"{function.Name} accepts every HTTP method; list the methods it serves in its HttpTrigger.");
            }

            foreach (var method in function.HttpMethods.Select(m => m.ToLowerInvariant()))
            {
                served.Add((path, method));
                var operation = contract.Operations().SingleOrDefault(o => o.Path == path && o.Method == method).Operation;
                if (operation is null)
                {
                    problems.Add($"{function.Name}: {method.ToUpperInvariant()} {path} is not in the OpenAPI document.");
                    continue;
                }

                if (operation["operationId"]?.GetValue<string>() != function.Name)
                {
                    problems.Add($"{function.Name}: the operationId of {method.ToUpperInvariant()} {path} is '{operation["operationId"]}', not the function's name.");
                }

                var security = operation["security"] as JsonArray ?? contract.Root["security"] as JsonArray ?? [];
                var schemes = security.SelectMany(s => (s as JsonObject ?? []).Select(p => p.Key)).ToHashSet(StringComparer.Ordinal);
                if (function.AuthLevel == AuthLevel.Anonymous && security.Count > 0)
                {
                    problems.Add($"{function.Name} is anonymous; its operation must say 'security: []'.");
                }
                else if (function.AuthLevel != AuthLevel.Anonymous && !schemes.SetEquals(["functionKey", "functionKeyQuery"]))
                {
                    problems.Add($"{function.Name} needs a key ({function.AuthLevel}); its operation's security must be the function key schemes, not [{string.Join(", ", schemes)}].");
                }
            }
        }

        problems.AddRange(contract.Operations()
            .Where(o => !served.Contains((o.Path, o.Method)))
            .Select(o => $"{o.Method.ToUpperInvariant()} {o.Path} is documented, but no HTTP function serves it."));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [MemberData(nameof(ExchangeNames))]
    public async Task A_real_exchange_is_one_the_document_describes(string exchange)
    {
        var contract = await ApiContract.FetchAsync(stack.Client);
        var (request, status) = Exchanges[exchange];
        using var message = request();
        var body = message.Content is null ? null : await message.Content.ReadAsStringAsync();

        using var response = await stack.Client.SendAsync(message);

        Assert.Equal(status, response.StatusCode);
        await contract.AssertConformsAsync(response, body);
    }

    [Fact]
    public async Task A_degraded_product_with_null_stock_is_one_the_document_describes()
    {
        var contract = await ApiContract.FetchAsync(stack.Client);
        await stack.ConfigureServiceAsync("inventory", new { errorRate = 1.0 });

        using var response = await stack.Client.GetAsync("api/products/SKU-00043?currency=EUR");
        var product = await contract.AssertConformsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(product!["stock"]);
        // Only inventory fails on purpose; on a busy machine another part may also run out of its budget.
        Assert.Contains("inventory", product["degraded"]!.AsArray().Select(d => d!.GetValue<string>()));
    }

    [Fact]
    public async Task The_answers_while_postgres_is_down_are_ones_the_document_describes()
    {
        var contract = await ApiContract.FetchAsync(stack.Client);
        await stack.StopPostgresAsync();
        try
        {
            foreach (var request in new[]
            {
                Get("api/health"),
                // A product no test reads: one read recently would still be answered from memory.
                Get("api/products/SKU-09301"),
                Get("api/products?limit=5"),
                Lookup("""{"skus":["SKU-00001"]}"""),
            })
            {
                using (request)
                {
                    var body = request.Content is null ? null : await request.Content.ReadAsStringAsync();
                    using var response = await stack.Client.SendAsync(request);
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    await contract.AssertConformsAsync(response, body);
                }
            }
        }
        finally
        {
            await stack.StartPostgresAsync();
        }

        Assert.True(
            await Eventually.TrueAsync(async () => (await stack.Client.GetAsync("api/health")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30)),
            "health did not recover after Postgres came back");
    }

    [Theory]
    [InlineData("""{"skus":[]}""")]
    [InlineData("""{"skus":["SKU-00001","SKU-00001"]}""")]
    [InlineData("""{"skus":["bad sku"]}""")]
    [InlineData("""{"skus":[null]}""")]
    [InlineData("""{"skus":"SKU-00001"}""")]
    [InlineData("""{"currency":"EUR"}""")]
    [InlineData("""{"skus":["SKU-00001"],"currency":"EURO"}""")]
    [InlineData("""{"skus":["SKU-00001"],"unexpected":1}""")]
    [InlineData("[]")]
    [InlineData("null")]
    public async Task A_lookup_body_the_api_refuses_is_one_the_document_does_not_allow(string json)
    {
        var contract = await ApiContract.FetchAsync(stack.Client);

        using var response = await stack.Client.SendAsync(Lookup(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty(contract.RequestBodyErrors("LookupProducts", "application/json", json));
    }

    [Fact]
    public async Task A_lookup_of_the_most_skus_the_document_allows_is_accepted()
    {
        var contract = await ApiContract.FetchAsync(stack.Client);
        var json = JsonContent.Create(new { skus = Enumerable.Range(1, 50).Select(i => $"SKU-{i:D5}"), currency = "eur" });
        var body = await json.ReadAsStringAsync();
        Assert.Empty(contract.RequestBodyErrors("LookupProducts", "application/json", body));

        using var response = await stack.Client.SendAsync(Lookup(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await contract.AssertConformsAsync(response, body);
    }

    [Theory]
    [InlineData("GetProduct", "sku", "SKU_00042", "api/products/SKU_00042")]
    [InlineData("GetProduct", "sku", "SKU 00042", "api/products/SKU%2000042")]
    [InlineData("GetProduct", "sku", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "api/products/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("GetProduct", "currency", "EURO", "api/products/SKU-00042?currency=EURO")]
    [InlineData("GetProduct", "currency", "E1R", "api/products/SKU-00042?currency=E1R")]
    [InlineData("ListProducts", "limit", "0", "api/products?limit=0")]
    [InlineData("ListProducts", "limit", "101", "api/products?limit=101")]
    [InlineData("ListProducts", "limit", "ten", "api/products?limit=ten")]
    [InlineData("ListProducts", "after", "%%%", "api/products?after=%25%25%25")]
    public async Task A_parameter_the_api_refuses_is_one_the_document_does_not_allow(string operationId, string parameter, string value, string url)
    {
        var contract = await ApiContract.FetchAsync(stack.Client);

        using var response = await stack.Client.GetAsync(url);
        var problem = await contract.AssertConformsAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(problem!["errors"]![parameter]);
        Assert.NotEmpty(contract.ParameterErrors(operationId, parameter, value));
    }

    private static HttpRequestMessage Get(string url) => new(HttpMethod.Get, url);

    private static HttpRequestMessage Lookup(string body, string mediaType = "application/json") =>
        new(HttpMethod.Post, LookupPath) { Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(mediaType)) };

    // A route parameter with its constraints, default or catch-all marker: {sku:alpha}, {id?}, {*rest}.
    [GeneratedRegex(@"\{\**([^{}:?=]+)[^{}]*\}")]
    private static partial Regex RouteParameter();
}
