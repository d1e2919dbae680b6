using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Storefront.FunctionsHost.Tests;

public sealed class HttpTriggerTests(FixtureHost fixture) : IClassFixture<FixtureHost>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Route_parameters_and_query_values_bind()
    {
        var item = await Client.GetFromJsonAsync<JsonElement>("api/items/42?q=hello");

        Assert.Equal(42, item.GetProperty("id").GetInt32());
        Assert.Equal("hello", item.GetProperty("query").GetString());
    }

    [Fact]
    public async Task A_value_that_breaks_a_route_constraint_is_not_found()
    {
        var response = await Client.GetAsync("api/items/forty-two");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>The real host takes the first route that matches in order of function name (azure-functions-host#9876).</summary>
    [Fact]
    public async Task Overlapping_routes_go_to_the_function_named_first_not_to_the_more_specific_template()
    {
        var featured = await Client.GetFromJsonAsync<JsonElement>("api/catalog/featured");
        var other = await Client.GetFromJsonAsync<JsonElement>("api/catalog/shoes");

        Assert.Equal("CatalogEntry", featured.GetProperty("function").GetString());
        Assert.Equal("featured", featured.GetProperty("name").GetString());
        Assert.Equal("CatalogEntry", other.GetProperty("function").GetString());
    }

    [Fact]
    public async Task Unknown_route_answers_404_without_a_body()
    {
        var response = await Client.GetAsync("api/no-such-function");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("DELETE", "api/items/1")]
    [InlineData("PUT", "api/items/1")]
    [InlineData("HEAD", "api/items/1")]
    [InlineData("OPTIONS", "api/items/1")]
    [InlineData("GET", "api/echo")]
    public async Task A_method_the_route_does_not_list_is_404_not_405(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Function_level_route_refuses_a_request_without_a_key_with_a_bodyless_401()
    {
        var response = await Client.PostAsync("api/echo", new StringContent("hi"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Function_level_route_refuses_a_wrong_key()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/echo") { Content = new StringContent("hi") };
        request.Headers.Add("x-functions-key", "not-the-key");

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Function_key_in_the_header_or_the_code_parameter_is_accepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/echo") { Content = new StringContent("by header") };
        request.Headers.Add("x-functions-key", fixture.Host.Settings.FunctionKey);
        var byHeader = await Client.SendAsync(request);
        var byQuery = await Client.PostAsync($"api/echo?code={fixture.Host.Settings.FunctionKey}", new StringContent("by query"));

        Assert.Equal(HttpStatusCode.OK, byHeader.StatusCode);
        Assert.Equal("by header", await byHeader.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, byQuery.StatusCode);
        Assert.Equal("by query", await byQuery.Content.ReadAsStringAsync());
    }

    /// <summary>The real host forwards the request as it came: the function receives the key it was called with.</summary>
    [Fact]
    public async Task Admin_level_route_needs_the_master_key_and_the_function_receives_it_as_sent()
    {
        var master = fixture.Host.Settings.MasterKey;
        var withFunctionKey = await Client.GetAsync($"api/secured?code={fixture.Host.Settings.FunctionKey}");
        var byCode = await Client.GetFromJsonAsync<JsonElement>($"api/secured?code={master}");
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/secured");
        request.Headers.Add("x-functions-key", master);
        var byHeader = await (await Client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Unauthorized, withFunctionKey.StatusCode);
        Assert.Equal(master, byCode.GetProperty("code").GetString());
        Assert.Equal(master, byHeader.GetProperty("header").GetString());
    }

    [Fact]
    public async Task A_function_that_throws_answers_a_bodyless_500()
    {
        var response = await Client.GetAsync("api/fail");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("ключ")]
    [InlineData("🔑 emoji")]
    [InlineData("Grüße, café")]
    public async Task Any_utf8_header_value_reaches_the_function_intact(string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/header/X-Probe");
        request.Headers.TryAddWithoutValidation("X-Probe", value);
        request.Headers.TryAddWithoutValidation("User-Agent", value);
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = fixture.Host.BaseAddress };

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(value, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString());
    }

    /// <summary>
    /// The X-Forwarded headers are the proxy's, as YARP's default transforms set them in Azure, and the worker takes the
    /// client's address, host and scheme from them: what a client sends in them is replaced, so it cannot pass for
    /// another address or host.
    /// </summary>
    [Fact]
    public async Task A_function_sees_the_client_the_host_saw_whatever_forwarded_headers_the_client_sends()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/client");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var client = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("127.0.0.1", client.GetProperty("address").GetString());
        Assert.Equal(fixture.Host.BaseAddress.Authority, client.GetProperty("host").GetString());
        Assert.Equal("http", client.GetProperty("scheme").GetString());
    }

    /// <summary>The request target reaches the worker as sent: "%2500" is "%00" to the function, not a NUL and not a stall.</summary>
    [Fact]
    public async Task A_percent_encoded_percent_in_the_path_reaches_the_function_decoded_once()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/header/X-Probe%2500");
        request.Headers.TryAddWithoutValidation("X-Probe%00", "seen");

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("seen", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetString());
    }

    [Fact]
    public async Task Malformed_chunked_framing_is_a_bodyless_400()
    {
        var answer = await RawHttp.SendAsync(
            fixture.Host.BaseAddress,
            $"POST /api/echo HTTP/1.1\r\nHost: x\r\nx-functions-key: {fixture.Host.Settings.FunctionKey}\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n");

        Assert.Equal(400, answer.Status);
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_then_a_stall_is_a_4xx()
    {
        var answer = await RawHttp.SendAsync(
            fixture.Host.BaseAddress,
            $"POST /api/echo HTTP/1.1\r\nHost: x\r\nx-functions-key: {fixture.Host.Settings.FunctionKey}\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\nonly this much");

        Assert.True(answer.Status is >= 400 and < 500, $"answered {answer.Status}");
    }

    [Fact]
    public async Task A_large_response_streams_through_intact()
    {
        var body = await Client.GetByteArrayAsync("api/large/1024");

        Assert.Equal(1024 * 1024, body.Length);
        Assert.All(body, b => Assert.Equal((byte)'x', b));
    }

    /// <summary>As YARP relays it in Azure: the client reads what the function has written while the function still runs.</summary>
    [Fact]
    public async Task A_response_reaches_the_client_while_the_function_is_still_writing_it()
    {
        var tag = Guid.NewGuid().ToString("N");
        // Bounds the test if the host held the body back: the function would wait for its go-ahead until this ends it.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var response = await Client.GetAsync($"api/trickle/{tag}", HttpCompletionOption.ResponseHeadersRead, bound.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(bound.Token));

        var first = await reader.ReadLineAsync(bound.Token);
        await File.WriteAllTextAsync(Path.Combine(fixture.ProbeDirectory, $"go-{tag}"), "go", bound.Token);
        var second = await reader.ReadLineAsync(bound.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("first", "second"), (first, second));
    }

    [Fact]
    public async Task Hundreds_of_concurrent_invocations_all_complete()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Client.GetAsync("api/slow/200")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    /// <summary>
    /// The client leaves once the function runs. One that leaves sooner may leave before the worker has the invocation
    /// in flight, and the worker drops a cancel for an invocation it does not have, in Azure as here.
    /// </summary>
    [Fact]
    public async Task A_client_that_goes_away_cancels_its_invocation()
    {
        var tag = Guid.NewGuid().ToString("N");
        using var leave = new CancellationTokenSource();
        var request = Client.GetAsync($"api/slow/600000?tag={tag}", leave.Token);

        Assert.True(
            await Eventually.TrueAsync(() => fixture.Probes($"started-{tag}").Length == 1, TimeSpan.FromSeconds(90)),
            "the function never started");
        await leave.CancelAsync();

        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => request);
        Assert.True(
            await Eventually.TrueAsync(() => fixture.Probes($"cancelled-{tag}").Length == 1, TimeSpan.FromSeconds(90)),
            "the function never saw its cancellation token fire");
    }
}
