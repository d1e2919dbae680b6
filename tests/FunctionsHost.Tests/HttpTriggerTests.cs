using System.Net;
using System.Net.Http.Json;
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

    [Fact]
    public async Task Unknown_route_answers_404_problem()
    {
        var response = await Client.GetAsync("api/no-such-function");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Wrong_method_is_rejected()
    {
        var response = await Client.DeleteAsync("api/items/1");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Function_level_route_refuses_a_request_without_a_key()
    {
        var response = await Client.PostAsync("api/echo", new StringContent("hi"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
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

    [Fact]
    public async Task Admin_level_route_needs_the_master_key_and_the_function_never_sees_it()
    {
        var withFunctionKey = await Client.GetAsync($"api/admin-only?code={fixture.Host.Settings.FunctionKey}");
        var withMasterKey = await Client.GetAsync($"api/admin-only?code={fixture.Host.Settings.MasterKey}");

        Assert.Equal(HttpStatusCode.Unauthorized, withFunctionKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withMasterKey.StatusCode);
        var body = await withMasterKey.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.GetProperty("sawKey").GetBoolean());
    }

    [Fact]
    public async Task A_function_that_throws_answers_500_problem()
    {
        var response = await Client.GetAsync("api/fail");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_response_larger_than_the_buffer_streams_through_intact()
    {
        var body = await Client.GetByteArrayAsync("api/large/1024");

        Assert.Equal(1024 * 1024, body.Length);
        Assert.All(body, b => Assert.Equal((byte)'x', b));
    }

    [Fact]
    public async Task Hundreds_of_concurrent_invocations_all_complete()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Client.GetAsync("api/slow/200")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task A_client_that_goes_away_cancels_its_invocation()
    {
        var tag = Guid.NewGuid().ToString("N");
        using var impatient = new HttpClient { BaseAddress = fixture.Host.BaseAddress, Timeout = TimeSpan.FromMilliseconds(500) };

        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.GetAsync($"api/slow/20000?tag={tag}"));

        Assert.True(
            await FixtureHost.EventuallyAsync(() => fixture.Probes($"cancelled-{tag}").Length == 1, TimeSpan.FromSeconds(10)),
            "the function never saw its cancellation token fire");
    }
}
