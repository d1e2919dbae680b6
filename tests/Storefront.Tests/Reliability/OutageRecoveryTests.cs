using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Storefront.Tests.Orders;

namespace Storefront.Tests.Reliability;

/// <summary>
/// Nothing accepted is lost: orders and reports come through outages longer than the queue's own retries, work
/// whose message was lost is found again, and no customer pays for an order that did not go through. The outages
/// here are short to keep the suite quick; <c>./tests/Performance/Soak/run.sh --outages</c> runs the long ones with production settings.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed class OutageRecoveryTests(StorefrontStack stack) : IAsyncLifetime
{
    /// <summary>Longer than the old retry budget (five dequeues two seconds apart), well inside the stack's budget.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Patience = StorefrontStack.RetryBudget + TimeSpan.FromSeconds(90);

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public async Task DisposeAsync()
    {
        // Whatever happened above, the next test gets running services.
        await stack.StartPostgresAsync();
        await stack.StartAzuriteAsync();
        await stack.ResetSimulatorAsync();
    }

    [Fact]
    public async Task Postgres_down_right_after_orders_were_accepted_leaves_every_order_confirmed_and_captured_once()
    {
        // Slow payments keep orders mid-processing when the database goes away.
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 1000 });
        var ids = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => stack.PlaceAcceptedAsync(OrderApi.Body())));

        await stack.StopPostgresAsync();
        await Task.Delay(Outage);
        await stack.StartPostgresAsync();

        foreach (var id in ids)
        {
            var order = await stack.WaitUntilFinishedAsync(id, Patience);
            Assert.Equal("confirmed", order.GetProperty("status").GetString());
            await stack.AssertMoneyFollowsTheOrderAsync(order);
        }
    }

    [Fact]
    public async Task Postgres_down_during_a_burst_of_orders_every_client_retrying_with_its_key_gets_one_confirmed_order()
    {
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 300 });
        var acceptedSoFar = 0;
        var outageStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clients = Enumerable.Range(0, 12).Select(client => Task.Run(async () =>
        {
            var accepted = new List<(string Key, Guid Id)>();
            for (var i = 0; i < 3; i++)
            {
                var key = $"burst-{Guid.NewGuid():N}";
                accepted.Add((key, await OrderApi.AcceptedIdAsync(await stack.PlaceRetryingAsync(OrderApi.Body(), key))));
                Interlocked.Increment(ref acceptedSoFar);
                // Each client's later orders wait for the outage, so that most of the burst meets it.
                await outageStarted.Task;
            }

            return accepted;
        })).ToArray();

        // The outage starts once the burst is under way: some first orders accepted, others still in flight.
        try
        {
            Assert.True(
                await Eventually.TrueAsync(() => Volatile.Read(ref acceptedSoFar) >= 6 || clients.Any(c => c.IsFaulted), Patience),
                "the burst did not start");
            await stack.StopPostgresAsync();
        }
        finally
        {
            // Whatever happened, no client waits for ever.
            outageStarted.SetResult();
        }

        await Task.Delay(Outage);
        await stack.StartPostgresAsync();
        var orders = (await Task.WhenAll(clients)).SelectMany(c => c).ToArray();

        Assert.Equal(36, orders.Length);
        foreach (var (key, id) in orders)
        {
            var order = await stack.WaitUntilFinishedAsync(id, Patience);
            Assert.Equal("confirmed", order.GetProperty("status").GetString());
            await stack.AssertMoneyFollowsTheOrderAsync(order);
            await using var count = stack.Database.CreateCommand("SELECT count(*) FROM orders WHERE idempotency_key = $1");
            count.Parameters.AddWithValue(key);
            Assert.Equal(1L, await count.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task An_accepted_order_whose_message_was_lost_is_found_by_the_sweep_and_confirmed()
    {
        var id = Guid.NewGuid();
        await using (var insert = stack.Database.CreateBatch())
        {
            insert.BatchCommands.Add(new(
                """
                INSERT INTO orders (id, idempotency_key, request_hash, customer_id, email, currency, total, ship_to_country, ship_to_postcode, next_attempt_at)
                VALUES ($1, $2, '\x00', 'c-lost', 'lost@example.com', 'USD', 10.00, 'NL', '1011AB', now() - interval '1 hour')
                """) { Parameters = { new() { Value = id }, new() { Value = $"lost-{id:N}" } } });
            insert.BatchCommands.Add(new("INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) VALUES ($1, 1, 'SKU-00001', 1, 10.00)")
            {
                Parameters = { new() { Value = id } },
            });
            await insert.ExecuteNonQueryAsync();
        }

        var order = await stack.WaitUntilFinishedAsync(id, Patience);

        Assert.Equal("confirmed", order.GetProperty("status").GetString());
        await stack.AssertMoneyFollowsTheOrderAsync(order);
    }

    [Fact]
    public async Task A_report_left_running_by_a_dead_worker_is_found_by_the_sweep_and_ends_ready()
    {
        var id = Guid.NewGuid();
        await using (var insert = stack.Database.CreateCommand(
            """
            INSERT INTO reports (id, kind, from_date, to_date, currency, status, started_at, lease_token, lease_expires_at, next_attempt_at)
            VALUES ($1, 'top-products', '2024-01-01', '2024-01-31', 'USD', 'running', now() - interval '5 minutes', gen_random_uuid(),
                    now() - interval '4 minutes', now() - interval '5 minutes')
            """))
        {
            insert.Parameters.AddWithValue(id);
            await insert.ExecuteNonQueryAsync();
        }

        JsonElement report = default;
        Assert.True(await Eventually.TrueAsync(
            async () =>
            {
                report = await SendAsync(HttpMethod.Get, $"api/reports/{id}", r => r.Content.ReadFromJsonAsync<JsonElement>());
                return report.GetProperty("status").GetString() == "ready";
            },
            Patience),
            $"report {id} is still {report}");
    }

    [Fact]
    public async Task A_report_download_while_storage_is_down_answers_503_with_retry_after_and_works_again_after()
    {
        using var created = await SendRawAsync(HttpMethod.Post, "api/reports", JsonContent.Create(new { kind = "sales-by-day", from = "2024-01-01", to = "2024-01-07" }));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.True(await Eventually.TrueAsync(
            async () => await SendAsync(HttpMethod.Get, $"api/reports/{id}", r => Task.FromResult(r.StatusCode)) == HttpStatusCode.OK,
            Patience));

        await stack.StopAzuriteAsync();
        try
        {
            using var refused = await SendRawAsync(HttpMethod.Get, $"api/reports/{id}/content");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            await stack.StartAzuriteAsync();
        }

        Assert.True(await Eventually.TrueAsync(
            async () => await SendAsync(HttpMethod.Get, $"api/reports/{id}/content", r => Task.FromResult(r.StatusCode)) == HttpStatusCode.OK,
            Patience));
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string url, Func<HttpResponseMessage, Task<T>> read)
    {
        using var response = await SendRawAsync(method, url);
        return await read(response);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string url, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        return await stack.Client.SendAsync(request);
    }
}
