using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Storefront.Tests.Orders;
using Xunit.Abstractions;

namespace Storefront.Tests.Reliability;

/// <summary>
/// PostgreSQL stops and starts again while the app serves: callers see 200 or a 503 problem with
/// Retry-After (never a 500, never a hang), reads succeed again without restarting the app, and an order
/// refused while the database was down left nothing behind.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed class PostgresRestartTests(StorefrontStack stack, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// How long a caller waits before counting a request as unanswered. Not a latency bound: the host's own
    /// request timeouts end every request well before it; this only keeps a hang from stalling the test.
    /// </summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(100);

    /// <summary>How long the test waits for each state it needs to see (an outage, a recovery).</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private const int Readers = 8;

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public async Task DisposeAsync()
    {
        // Whatever happened above, the next test gets a running database.
        await stack.StartPostgresAsync();
        await stack.ResetSimulatorAsync();
    }

    [Fact]
    public async Task Reads_across_a_postgres_restart_are_200_or_503_with_retry_after_and_recover_without_restarting_the_app()
    {
        var workerRestarts = stack.Host.WorkerRestarts;
        var workerPid = stack.Host.WorkerProcessId;
        using var client = new HttpClient { BaseAddress = stack.Host.BaseAddress, Timeout = HangGuard };
        var outcomes = new ConcurrentQueue<Outcome>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        // Bounded in count: each reader stops at its request cap or when told, whichever comes first.
        var readers = Enumerable.Range(0, Readers).Select(reader => Task.Run(async () =>
        {
            for (var i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
            {
                var sku = $"SKU-{1 + ((reader * 1_000 + i) % 500):D5}";
                outcomes.Enqueue(await ReadAsync(client, sku, clock));
                // A caller's pace, not a spin: a fast 503 must not exhaust the loop before the restart.
                await Task.Delay(5);
            }
        })).ToArray();

        // Each phase waits for what callers see, not for a fixed time: a busy machine only makes phases longer.
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(outcomes.Any(o => o.Status == 200)), Patience), "no read succeeded before the stop");
        var stoppedAt = clock.Elapsed;
        await stack.StopPostgresAsync();
        var outageSeen = await Eventually.TrueAsync(() => Task.FromResult(outcomes.Any(o => o.Status == 503 && o.At > stoppedAt)), Patience);
        await stack.StartPostgresAsync();
        var startedAt = clock.Elapsed;
        var recoveredAfterStart = await Eventually.TrueAsync(() => Task.FromResult(outcomes.Any(o => o.Status == 200 && o.At > startedAt)), Patience);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        var all = outcomes.ToArray();
        var summary = string.Join(", ", all.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
        output.WriteLine($"{all.Length} reads by {Readers} callers, Postgres down {(startedAt - stoppedAt).TotalSeconds:F1} s: {summary}");

        // What callers saw: a 200, or a 503 problem they may retry; nothing else, and every request answered.
        Assert.All(all, o => Assert.True(o.Status is 200 or 503, $"status {o.Status} at {o.At.TotalSeconds:F1} s ({o.Detail}); all: {summary}"));
        Assert.All(all.Where(o => o.Status == 503), o =>
        {
            Assert.True(o.RetryAfter, $"503 without Retry-After at {o.At.TotalSeconds:F1} s");
            Assert.True(o.Problem, $"503 that is not problem+json at {o.At.TotalSeconds:F1} s");
        });

        // The outage was seen (or the test proved nothing), and reads succeeded again once the database was back.
        Assert.True(outageSeen, $"no 503 while Postgres was down; all: {summary}");
        Assert.True(recoveredAfterStart, $"no 200 after the restart; all: {summary}");

        // Recovered: a burst of reads after the restart all succeed, with the same worker process as before.
        var recovered = await Eventually.TrueAsync(
            async () =>
            {
                var burst = await Task.WhenAll(Enumerable.Range(1, 16).Select(i => ReadAsync(client, $"SKU-{i:D5}", clock)));
                return burst.All(o => o.Status == 200);
            },
            Patience);
        Assert.True(recovered, "reads did not all succeed again after the restart");
        Assert.Equal(workerRestarts, stack.Host.WorkerRestarts);
        Assert.Equal(workerPid, stack.Host.WorkerProcessId);
    }

    /// <summary>
    /// A restart ends every session, and the app's pool still holds the connections it had open: none of them may
    /// cost a caller a 503 once the database answers again (a failover ends sessions the same way).
    /// </summary>
    [Fact]
    public async Task Reads_right_after_a_restart_are_answered_although_the_pooled_connections_were_closed()
    {
        using var client = new HttpClient { BaseAddress = stack.Host.BaseAddress, Timeout = HangGuard };
        var clock = Stopwatch.StartNew();
        // Concurrent reads leave several open connections in the app's pool.
        var warm = await Task.WhenAll(Enumerable.Range(1, Readers).Select(i => ReadAsync(client, $"SKU-{i:D5}", clock)));
        Assert.All(warm, o => Assert.Equal(200, o.Status));

        await stack.StopPostgresAsync();
        await stack.StartPostgresAsync();

        // One at a time, so that each read takes an idle pooled connection, as many reads as there were callers.
        var after = new List<Outcome>();
        for (var i = 1; i <= 2 * Readers; i++)
        {
            after.Add(await ReadAsync(client, $"SKU-{100 + i:D5}", clock));
            after.Add(await ReadAsync(client, "NO-SUCH-SKU", clock));
        }

        Assert.All(after, o => Assert.True(o.Status is 200 or 404, $"status {o.Status} at {o.At.TotalSeconds:F1} s ({o.Detail})"));
    }

    [Fact]
    public async Task An_order_placed_while_postgres_is_down_is_a_503_with_retry_after_and_writes_nothing_and_its_retry_succeeds()
    {
        var key = Guid.NewGuid().ToString("N");
        var body = OrderApi.Body();

        await stack.StopPostgresAsync();
        HttpResponseMessage refused;
        try
        {
            refused = await stack.PlaceAsync(body, key);
        }
        finally
        {
            await stack.StartPostgresAsync();
        }

        using (refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        // Nothing written: no order, no line, no outbox message for that key.
        await using (var command = stack.Database.CreateCommand(
            "SELECT (SELECT count(*) FROM orders WHERE idempotency_key = $1) + (SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.idempotency_key = $1) + (SELECT count(*) FROM outbox x JOIN orders o ON o.id = x.order_id WHERE o.idempotency_key = $1)"))
        {
            command.Parameters.AddWithValue(key);
            Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        }

        // The caller retries with the same key, as the problem says: accepted once the database is back, and finished.
        HttpResponseMessage? accepted = null;
        var placed = await Eventually.TrueAsync(
            async () =>
            {
                accepted?.Dispose();
                accepted = await stack.PlaceAsync(body, key);
                return accepted.StatusCode == HttpStatusCode.Accepted;
            },
            Patience);
        Assert.True(placed, $"the retry was not accepted: {(int?)accepted?.StatusCode}");
        var id = await OrderApi.AcceptedIdAsync(accepted!);
        accepted!.Dispose();
        var order = await stack.WaitUntilFinishedAsync(id, Patience);
        Assert.Equal("confirmed", order.GetProperty("status").GetString());
    }

    /// <summary>
    /// A product read recently keeps its row in the worker's memory, so its page is still answered, whole, while the
    /// database is down (a failover takes about a minute); a product not read recently needs the database and is a 503.
    /// </summary>
    [Fact]
    public async Task While_postgres_is_down_a_product_read_recently_is_answered_and_one_not_read_is_a_503_with_retry_after()
    {
        using var client = new HttpClient { BaseAddress = stack.Host.BaseAddress, Timeout = HangGuard };
        var clock = Stopwatch.StartNew();
        Assert.Equal(200, (await ReadAsync(client, "SKU-09101", clock)).Status);

        await stack.StopPostgresAsync();
        Outcome recent;
        Outcome notRead;
        try
        {
            recent = await ReadAsync(client, "SKU-09101", clock);
            notRead = await ReadAsync(client, "SKU-09102", clock);
        }
        finally
        {
            await stack.StartPostgresAsync();
        }

        Assert.Equal(200, recent.Status);
        Assert.Equal(503, notRead.Status);
        Assert.True(notRead.RetryAfter, "503 without Retry-After");
        Assert.True(notRead.Problem, "503 that is not problem+json");
    }

    /// <summary>Every endpoint that needs the database answers a retryable 503 while it is down, never a 500.</summary>
    [Theory]
    [InlineData("GET", "api/orders/{id}")]
    [InlineData("GET", "api/products?limit=5")]
    [InlineData("POST", "api/products/lookup")]
    [InlineData("POST", "api/reports")]
    [InlineData("GET", "api/reports/{id}")]
    [InlineData("GET", "api/reports/{id}/content")]
    public async Task Endpoints_that_need_the_database_answer_503_with_retry_after_while_it_is_down(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url.Replace("{id}", Guid.CreateVersion7().ToString(), StringComparison.Ordinal));
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        request.Content = url switch
        {
            "api/products/lookup" => JsonContent.Create(new { skus = new[] { "SKU-00001", "SKU-00002" } }),
            "api/reports" => JsonContent.Create(new { kind = "sales-by-day", from = "2024-01-01", to = "2024-01-31" }),
            _ => null,
        };

        await stack.StopPostgresAsync();
        HttpResponseMessage response;
        try
        {
            response = await stack.Client.SendAsync(request);
        }
        finally
        {
            await stack.StartPostgresAsync();
        }

        using (response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{method} {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    private static async Task<Outcome> ReadAsync(HttpClient client, string sku, Stopwatch clock)
    {
        var at = clock.Elapsed;
        try
        {
            using var response = await client.GetAsync($"api/products/{sku}");
            var detail = (int)response.StatusCode >= 500 ? await response.Content.ReadAsStringAsync() : string.Empty;
            return new Outcome(
                (int)response.StatusCode,
                response.Headers.RetryAfter is not null,
                response.Content.Headers.ContentType?.MediaType == "application/problem+json",
                at,
                detail);
        }
        catch (TaskCanceledException)
        {
            // The hang guard fired: the request was never answered.
            return new Outcome(0, false, false, at, "no answer");
        }
        catch (HttpRequestException exception)
        {
            return new Outcome(-1, false, false, at, exception.Message);
        }
    }

    /// <param name="At">When the request was sent, since the test began: orders outcomes around the stop and start.</param>
    private sealed record Outcome(int Status, bool RetryAfter, bool Problem, TimeSpan At, string Detail);
}
