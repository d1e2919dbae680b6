using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Storefront.FunctionsHost.Tests;
using Storefront.Tests.Orders;

namespace Storefront.Tests.Reliability;

/// <summary>
/// Hostile and malformed requests: every one gets a 4xx (problem+json wherever the app answers; the host's and
/// the server's own refusals have no body, as in Azure), never a 5xx and never a hang, and none of them changes
/// the database.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed class BadInputTests(StorefrontStack stack)
{
    private const string ValidOrder = """{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":1}],"shipTo":{"country":"NL","postcode":"1011AB"}}""";

    public static TheoryData<string, string> MalformedOrderBodies => new()
    {
        { "not JSON", "{customerId: c-1" },
        { "truncated", ValidOrder[..40] },
        { "an array", "[1,2,3]" },
        { "a string", "\"order\"" },
        { "JSON null", "null" },
        { "empty object", "{}" },
        { "wrong type: lines is a string", ValidOrder.Replace("""[{"sku":"SKU-00001","quantity":1}]""", "\"SKU-00001\"", StringComparison.Ordinal) },
        { "wrong type: quantity is text", ValidOrder.Replace("\"quantity\":1", "\"quantity\":\"one\"", StringComparison.Ordinal) },
        { "wrong type: quantity is a number in a string", ValidOrder.Replace("\"quantity\":1", "\"quantity\":\"2\"", StringComparison.Ordinal) },
        { "wrong type: quantity is a hex string", ValidOrder.Replace("\"quantity\":1", "\"quantity\":\"0x2\"", StringComparison.Ordinal) },
        { "NaN quantity", ValidOrder.Replace("\"quantity\":1", "\"quantity\":\"NaN\"", StringComparison.Ordinal) },
        { "huge quantity", ValidOrder.Replace("\"quantity\":1", "\"quantity\":99999999999999999999", StringComparison.Ordinal) },
        { "float quantity", ValidOrder.Replace("\"quantity\":1", "\"quantity\":1.5", StringComparison.Ordinal) },
        { "exponent quantity", ValidOrder.Replace("\"quantity\":1", "\"quantity\":1e308", StringComparison.Ordinal) },
        { "negative quantity", ValidOrder.Replace("\"quantity\":1", "\"quantity\":-3", StringComparison.Ordinal) },
        { "zero quantity", ValidOrder.Replace("\"quantity\":1", "\"quantity\":0", StringComparison.Ordinal) },
        { "duplicate skus", ValidOrder.Replace("""[{"sku":"SKU-00001","quantity":1}]""", """[{"sku":"SKU-00001","quantity":1},{"sku":"SKU-00001","quantity":1}]""", StringComparison.Ordinal) },
        { "51 lines", ValidOrder.Replace("""[{"sku":"SKU-00001","quantity":1}]""", "[" + string.Join(",", Enumerable.Range(1, 51).Select(i => $$"""{"sku":"SKU-{{i:D5}}","quantity":1}""")) + "]", StringComparison.Ordinal) },
        { "unknown property", ValidOrder.Replace("\"customerId\"", "\"admin\":true,\"customerId\"", StringComparison.Ordinal) },
        { "duplicate property", ValidOrder.Replace("\"customerId\":\"c-1\"", "\"customerId\":\"c-1\",\"customerId\":\"c-2\"", StringComparison.Ordinal) },
        { "deep nesting", ValidOrder.Replace("\"currency\":\"EUR\"", "\"currency\":" + new string('[', 64) + new string(']', 64), StringComparison.Ordinal) },
        { "control characters", ValidOrder.Replace("c-1", "c-\\u0000\\u0007\\u001b1", StringComparison.Ordinal) },
        { "NUL in email", ValidOrder.Replace("a@example.com", "a\\u0000@example.com", StringComparison.Ordinal) },
        { "NUL in postcode", ValidOrder.Replace("1011AB", "1011\\u0000AB", StringComparison.Ordinal) },
        { "NUL in sku", ValidOrder.Replace("SKU-00001", "SKU-\\u000000001", StringComparison.Ordinal) },
        { "NUL in currency", ValidOrder.Replace("\"EUR\"", "\"E\\u0000R\"", StringComparison.Ordinal) },
        { "SQL in customerId", ValidOrder.Replace("c-1", "x'; DROP TABLE orders; --", StringComparison.Ordinal) },
        { "SQL in sku", ValidOrder.Replace("SKU-00001", "SKU-1' OR '1'='1", StringComparison.Ordinal) },
        { "overlong email", ValidOrder.Replace("a@example.com", new string('a', 300) + "@example.com", StringComparison.Ordinal) },
        { "path in postcode", ValidOrder.Replace("1011AB", "../../etc/passwd", StringComparison.Ordinal) },
        { "unknown country", ValidOrder.Replace("\"NL\"", "\"ZZ\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(MalformedOrderBodies))]
    public async Task A_malformed_order_body_is_a_4xx_problem_and_changes_nothing(string kind, string body)
    {
        var before = await DatabaseFingerprintAsync();

        using var response = await PostOrderAsync(new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertRefusedAsync(response, kind);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task Invalid_utf8_is_a_4xx_problem()
    {
        var bytes = Encoding.UTF8.GetBytes(ValidOrder).ToList();
        bytes.InsertRange(20, new byte[] { 0xC3, 0x28, 0xFF, 0xFE });
        var content = new ByteArrayContent([.. bytes]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };

        using var response = await PostOrderAsync(content);

        await AssertRefusedAsync(response, "invalid UTF-8");
    }

    [Fact]
    public async Task A_ten_megabyte_body_is_413()
    {
        var before = await DatabaseFingerprintAsync();
        var huge = "{\"customerId\":\"" + new string('x', 10 * 1024 * 1024) + "\"}";

        using var response = await PostOrderAsync(new StringContent(huge, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        using var response = await PostOrderAsync(new StringContent(ValidOrder, Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("utf-16")]
    [InlineData("utf-32")]
    [InlineData("iso-8859-1")]
    public async Task Json_in_another_charset_than_utf8_is_415(string charset)
    {
        var before = await DatabaseFingerprintAsync();
        var content = new ByteArrayContent(Encoding.GetEncoding(charset).GetBytes(ValidOrder));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = charset };

        using var response = await PostOrderAsync(content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Theory]
    [InlineData("9999-12-31", "9999-12-31")]
    [InlineData("0001-01-01", "0001-01-31")]
    [InlineData("1999-12-31", "2000-01-05")]
    [InlineData("2099-12-30", "2100-01-01")]
    public async Task Report_dates_at_the_ends_of_the_calendar_are_400_problems(string from, string to)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/reports")
        {
            Content = new StringContent($$"""{"kind":"sales-by-day","from":"{{from}}","to":"{{to}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        using var response = await stack.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("%00")]
    [InlineData("SKU%00")]
    [InlineData("%00%27%3B")]
    public async Task A_nul_in_search_text_is_a_400_problem_not_an_outage(string search)
    {
        using var response = await stack.Client.GetAsync($"api/products?search={search}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("api/products/lookup", """{"skus":["SKU-\u000000001"]}""")]
    [InlineData("api/products/lookup", """{"skus":["SKU-00001"],"currency":"E\u0000R"}""")]
    [InlineData("api/reports", """{"kind":"sales-by-day\u0000","from":"2024-01-01","to":"2024-01-31"}""")]
    [InlineData("api/reports", """{"kind":"sales-by-day","from":"2024-01-01","to":"2024-01-31","currency":"E\u0000R"}""")]
    [InlineData("api/reports", """{"kind":"sales-by-day","from":"2024-01-01\u0000","to":"2024-01-31"}""")]
    [InlineData("api/reports", """{"kind":"sales-by-day","from":"2024-01-01","to":"2024-01-31","quantity":"2"}""")]
    public async Task A_nul_or_a_stray_field_in_other_bodies_is_a_4xx_problem(string url, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        using var response = await stack.Client.SendAsync(request);

        await AssertRefusedAsync(response, body);
    }

    public static TheoryData<string, string> Utf8HeaderValues => new()
    {
        { "User-Agent", "ключ" },
        { "Accept-Language", "ключ" },
        { "X-Client-Note", "🔑 emoji" },
        { "Referer", "https://example.com/ключ" },
        { "Idempotency-Key", "ключ" },
    };

    /// <summary>Headers are forwarded as they came: any UTF-8 value reaches the app, which answers as it would without it.</summary>
    [Theory]
    [MemberData(nameof(Utf8HeaderValues))]
    public async Task A_utf8_header_value_never_gets_a_5xx_on_any_route(string header, string value)
    {
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = stack.Host.BaseAddress,
        };

        foreach (var (method, url) in new[] { ("GET", "api/products/SKU-00001"), ("GET", "api/products?limit=2"), ("GET", "api/health"), ("GET", "api/openapi.yaml"), ("POST", "api/orders") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            request.Headers.TryAddWithoutValidation(header, value);
            if (method == "POST")
            {
                request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
                request.Content = new StringContent(ValidOrder, Encoding.UTF8, "application/json");
                if (header != "Idempotency-Key")
                {
                    request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
                }
            }

            using var response = await client.SendAsync(request);

            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{header}: {value} on {method} {url}: {status}");
            if (method == "GET" && url != "api/health")
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
    }

    [Fact]
    public async Task Malformed_chunked_framing_is_a_400()
    {
        var before = await DatabaseFingerprintAsync();

        var answer = await RawHttp.SendAsync(
            stack.Host.BaseAddress,
            $"POST /api/orders HTTP/1.1\r\nHost: x\r\nx-functions-key: {stack.Host.Settings.FunctionKey}\r\nIdempotency-Key: {Guid.NewGuid():N}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{{\"cu\r\nnot-hex\r\n\r\n");

        Assert.Equal(400, answer.Status);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_then_a_stall_is_a_4xx()
    {
        var answer = await RawHttp.SendAsync(
            stack.Host.BaseAddress,
            $"POST /api/orders HTTP/1.1\r\nHost: x\r\nx-functions-key: {stack.Host.Settings.FunctionKey}\r\nIdempotency-Key: {Guid.NewGuid():N}\r\nContent-Type: application/json\r\nContent-Length: {ValidOrder.Length + 100}\r\n\r\n{ValidOrder}");

        Assert.True(answer.Status is >= 400 and < 500, $"answered {answer.Status}");
    }

    /// <summary>Over the app's 256 KiB limit, sent in small pieces a little at a time (faster than Kestrel's minimum rate).</summary>
    [Fact]
    public async Task A_body_over_the_limit_uploaded_slowly_is_413()
    {
        var before = await DatabaseFingerprintAsync();
        const int size = 400 * 1024;

        var answer = await RawHttp.SendAsync(
            stack.Host.BaseAddress,
            $"POST /api/orders HTTP/1.1\r\nHost: x\r\nx-functions-key: {stack.Host.Settings.FunctionKey}\r\nIdempotency-Key: {Guid.NewGuid():N}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n",
            async (stream, cancellationToken) =>
            {
                var piece = Encoding.ASCII.GetBytes(new string(' ', 8 * 1024));
                for (var sent = 0; sent < size; sent += piece.Length)
                {
                    await stream.WriteAsync(piece, cancellationToken);
                    await Task.Delay(20, cancellationToken);
                }
            });

        Assert.Equal(413, answer.Status);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    /// <summary>The real host matches methods exactly (no implicit HEAD for GET) and has no 405: another method is a bodyless 404.</summary>
    [Theory]
    [InlineData("HEAD", "api/products/SKU-00001")]
    [InlineData("HEAD", "api/health")]
    [InlineData("DELETE", "api/products/SKU-00001")]
    [InlineData("PUT", "api/orders")]
    [InlineData("OPTIONS", "api/products")]
    [InlineData("GET", "api/no-such-thing")]
    public async Task A_method_or_path_no_function_serves_is_a_bodyless_404(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        using var response = await stack.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_overlong_url_is_a_414()
    {
        using var response = await stack.Client.GetAsync("api/products?search=" + new string('s', 16 * 1024));

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
    }

    [Theory]
    [InlineData("api/products/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("api/products/%2e%2e")]
    [InlineData("api/products/SKU-00001%00")]
    [InlineData("api/products/SKU-00001%2500")]
    [InlineData("api/products/%25")]
    [InlineData("api/products/%252e%252e")]
    [InlineData("api/orders/%2541")]
    [InlineData("api/products/SKU-00001%27%20OR%20%271%27%3D%271")]
    [InlineData("api/orders/..%2Fhealth")]
    [InlineData("api/orders/00000000-0000-0000-0000-000000000000%27--")]
    public async Task Path_tricks_in_route_values_are_4xx(string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        using var response = await stack.Client.SendAsync(request);

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{url}: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task Sql_looking_search_text_is_only_text()
    {
        var before = await DatabaseFingerprintAsync();

        using var response = await stack.Client.GetAsync("api/products?search=%27%3B%20DELETE%20FROM%20products%3B%20--");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task An_overlong_idempotency_key_is_400_and_an_overlong_header_block_is_refused()
    {
        using var longKey = await PostOrderAsync(new StringContent(ValidOrder, Encoding.UTF8, "application/json"), key: new string('k', 10_000));
        Assert.Equal(HttpStatusCode.BadRequest, longKey.StatusCode);

        // Past Kestrel's header limit the front end refuses the request before any function runs (431).
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/products/SKU-00001");
        request.Headers.TryAddWithoutValidation("X-Padding", new string('p', 64 * 1024));
        using var oversized = await stack.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, oversized.StatusCode);
    }

    private async Task<HttpResponseMessage> PostOrderAsync(HttpContent content, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/orders") { Content = content };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key ?? Guid.NewGuid().ToString("N"));
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        return await stack.Client.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string kind)
    {
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{kind}: {status} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Row counts of every table a request could write, and the newest change.</summary>
    private async Task<string> DatabaseFingerprintAsync()
    {
        await using var command = stack.Database.CreateCommand(
            "SELECT (SELECT count(*) FROM orders) || '/' || (SELECT count(*) FROM order_lines) || '/' || (SELECT count(*) FROM products) || '/' || coalesce((SELECT max(updated_at)::text FROM products), '')");
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
