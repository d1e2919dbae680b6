using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Storefront.FunctionsHost.Http;

namespace Storefront.FunctionsHost.Tests;

/// <summary>host.json extensions.http throttles: maxConcurrentRequests, maxOutstandingRequests, dynamicThrottlesEnabled.</summary>
public sealed class HttpThrottleTests
{
    [Fact]
    public void Host_json_throttles_are_read_and_default_to_unbounded()
    {
        var none = HostJson.Parse(JsonDocument.Parse("""{ "extensions": { "http": { "routePrefix": "api" } } }""").RootElement);
        var set = HostJson.Parse(JsonDocument.Parse(
            """{ "extensions": { "http": { "maxConcurrentRequests": 100, "maxOutstandingRequests": 200, "dynamicThrottlesEnabled": true } } }""").RootElement);

        Assert.False(none.HttpThrottles.Enabled);
        Assert.Equal(100, set.HttpThrottles.MaxConcurrentRequests);
        Assert.Equal(200, set.HttpThrottles.MaxOutstandingRequests);
        Assert.True(set.HttpThrottles.DynamicThrottlesEnabled);
    }

    [Fact]
    public void A_bound_below_one_other_than_minus_one_is_refused()
    {
        var json = JsonDocument.Parse("""{ "extensions": { "http": { "maxConcurrentRequests": 0 } } }""").RootElement;

        Assert.Throws<InvalidOperationException>(() => HostJson.Parse(json));
    }

    [Fact]
    public async Task Requests_past_the_concurrency_limit_wait_and_past_the_outstanding_limit_get_429()
    {
        var throttle = new HttpThrottle(new HttpThrottleOptions { MaxConcurrentRequests = 2, MaxOutstandingRequests = 3 }, () => null, NullLogger.Instance);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var mostRunning = 0;
        var started = 0;
        RequestDelegate function = async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostRunning, now);
            Interlocked.Increment(ref started);
            await release.Task;
            Interlocked.Decrement(ref running);
        };

        var contexts = Enumerable.Range(0, 5).Select(_ => new DefaultHttpContext()).ToArray();
        var requests = contexts.Select(c => throttle.InvokeAsync(c, function)).ToArray();

        // Two run, one waits, two are refused at once (they never reach the function).
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.Equal(3, throttle.Outstanding);
        Assert.True(requests[3].IsCompleted && requests[4].IsCompleted);
        Assert.All(contexts[3..], c =>
        {
            Assert.Equal(StatusCodes.Status429TooManyRequests, c.Response.StatusCode);
            Assert.Equal("1", c.Response.Headers[HttpThrottle.ScaleOutHeader].ToString());
        });

        release.SetResult();
        await Task.WhenAll(requests);

        Assert.Equal(3, started);
        Assert.Equal(2, mostRunning);
        Assert.Equal(0, throttle.Outstanding);
        Assert.All(contexts[..3], c => Assert.Equal(StatusCodes.Status200OK, c.Response.StatusCode));
    }

    [Fact]
    public async Task Without_bounds_every_request_runs()
    {
        var throttle = new HttpThrottle(new HttpThrottleOptions(), () => null, NullLogger.Instance);
        var ran = 0;
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => throttle.InvokeAsync(new DefaultHttpContext(), _ =>
        {
            Interlocked.Increment(ref ran);
            return Task.CompletedTask;
        })));

        Assert.Equal(50, ran);
    }

    [Fact]
    public async Task A_request_that_goes_away_while_queued_leaves_the_queue()
    {
        var throttle = new HttpThrottle(new HttpThrottleOptions { MaxConcurrentRequests = 1 }, () => null, NullLogger.Instance);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = throttle.InvokeAsync(new DefaultHttpContext(), _ => release.Task);
        using var aborted = new CancellationTokenSource();
        var queued = new DefaultHttpContext { RequestAborted = aborted.Token };
        var ranQueued = false;
        var second = throttle.InvokeAsync(queued, _ =>
        {
            ranQueued = true;
            return Task.CompletedTask;
        });

        await aborted.CancelAsync();
        await second;
        release.SetResult();
        await first;

        Assert.False(ranQueued);
        Assert.Equal(0, throttle.Outstanding);
    }

    [Theory]
    [InlineData("""{"Threads":900,"ThreadLimit":1000}""", true)]
    [InlineData("""{"ActiveConnections":81,"ActiveConnectionLimit":100}""", true)]
    [InlineData("""{"Threads":100,"ThreadLimit":1000,"Connections":10,"ConnectionLimit":100}""", false)]
    [InlineData("""{"Threads":900,"ThreadLimit":0}""", false)]
    [InlineData("""{"Threads":900,"ThreadLimit":1000}x""", true)]
    [InlineData("not json", false)]
    public void Sandbox_counters_past_80_percent_of_their_limit_are_exceeded(string counters, bool exceeded)
    {
        Assert.Equal(exceeded, HttpThrottle.ExceededCounters(counters).Count > 0);
    }

    [Fact]
    public async Task Dynamic_throttles_refuse_while_the_counters_are_exceeded()
    {
        var throttle = new HttpThrottle(
            new HttpThrottleOptions { DynamicThrottlesEnabled = true }, () => """{"Connections":95,"ConnectionLimit":100}""", NullLogger.Instance);
        var context = new DefaultHttpContext();
        var ran = false;

        await throttle.InvokeAsync(context, _ =>
        {
            ran = true;
            return Task.CompletedTask;
        });

        Assert.False(ran);
        Assert.Equal(StatusCodes.Status429TooManyRequests, context.Response.StatusCode);
    }

    [Fact]
    public async Task Through_the_host_the_function_routes_are_throttled_and_admin_routes_are_not()
    {
        var fixture = new FixtureHost
        {
            HostJson = """{ "version": "2.0", "extensions": { "http": { "routePrefix": "api", "maxConcurrentRequests": 1, "maxOutstandingRequests": 1 } } }""",
        };
        try
        {
            await fixture.InitializeAsync();
            var client = fixture.Client;
            using var holder = new HttpClient { BaseAddress = fixture.Host.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };

            // One slow request (ten minutes, cancelled when the host stops) holds the only place. A probe may take it
            // first, and the slow one is refused: send it again.
            var holding = holder.GetAsync("api/slow/600000");
            Assert.True(await Eventually.TrueAsync(
                async () =>
                {
                    if (holding.IsCompleted)
                    {
                        holding = holder.GetAsync("api/slow/600000");
                        return false;
                    }

                    return (await client.GetAsync("api/items/1")).StatusCode == HttpStatusCode.TooManyRequests;
                },
                TimeSpan.FromSeconds(90)));

            var refused = await client.GetAsync("api/items/2");
            var admin = await client.GetAsync($"admin/host/status?code={fixture.Host.Settings.MasterKey}");

            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("1", refused.Headers.GetValues(HttpThrottle.ScaleOutHeader).Single());
            Assert.Empty(await refused.Content.ReadAsByteArrayAsync());
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
            Assert.False(holding.IsCompleted);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
