using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Npgsql;
using Storefront.Migrations;

namespace Storefront.Tests.Reports;

[Collection(StorefrontCollection.Name)]
public sealed class ReportTests(StorefrontStack stack) : IAsyncLifetime
{
    // A month no other test writes orders in, filled with generated history.
    private static readonly HistoryOptions History = new(Lines: 4000, From: new DateOnly(2024, 2, 1), Days: 29, Prefix: "report-tests");
    /// <summary>A bound on a state; a report deferred for want of a turn comes back 30 s later.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public async Task InitializeAsync()
    {
        await stack.ResetSimulatorAsync();
        await HistoryGenerator.GenerateAsync(stack.Database, History, CancellationToken.None);
    }

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task A_sales_by_day_report_becomes_ready_and_its_csv_matches_an_independent_query()
    {
        var report = await CreateReadyReportAsync(new { kind = "sales-by-day", from = "2024-02-01", to = "2024-02-29", currency = "USD" });
        var csv = await ContentAsync(report);

        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("date,orders,units,revenue_usd", lines[0]);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToDictionary(
            f => f[0], f => (Orders: long.Parse(f[1], CultureInfo.InvariantCulture), Units: long.Parse(f[2], CultureInfo.InvariantCulture), Revenue: decimal.Parse(f[3], CultureInfo.InvariantCulture)));
        Assert.Equal(lines.Length - 1, report.GetProperty("rows").GetInt64());
        Assert.Equal(Encoding.UTF8.GetByteCount(csv), report.GetProperty("bytes").GetInt64());

        var rates = await stack.Simulator.GetFromJsonAsync<JsonElement>("rates?base=USD");
        var expected = await IndependentDailyTotalsAsync(rates.GetProperty("rates"));
        Assert.Equal(expected.Keys.Order(), rows.Keys.Order());
        foreach (var (day, totals) in expected)
        {
            Assert.Equal(totals, rows[day]);
        }
    }

    [Fact]
    public async Task A_top_products_report_in_another_currency_lists_every_sold_sku_once()
    {
        var report = await CreateReadyReportAsync(new { kind = "top-products", from = "2024-02-01", to = "2024-02-29", currency = "EUR" });
        var lines = (await ContentAsync(report)).TrimEnd('\n').Split('\n');

        Assert.Equal("sku,name,units,orders,revenue_eur", lines[0]);
        var skus = lines.Skip(1).Select(l => l.Split(',')[0]).ToArray();
        Assert.Equal(skus.Length, skus.Distinct().Count());
        await using var command = stack.Database.CreateCommand(
            "SELECT count(DISTINCT l.sku), sum(l.quantity) FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.idempotency_key LIKE 'report-tests-%'");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(reader.GetInt64(0), skus.Length);
        Assert.Equal(reader.GetInt64(1), lines.Skip(1).Sum(l => long.Parse(l.Split(',')[2], CultureInfo.InvariantCulture)));
        var revenues = lines.Skip(1).Select(l => decimal.Parse(l.Split(',')[4], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(revenues.OrderDescending(), revenues);
    }

    [Theory]
    [InlineData("""{"kind":"everything","from":"2024-01-01","to":"2024-01-31"}""", "kind")]
    [InlineData("""{"kind":"sales-by-day","from":"2024-13-01","to":"2024-12-31"}""", "from")]
    [InlineData("""{"kind":"sales-by-day","from":"2024-03-01","to":"2024-02-01"}""", "to")]
    [InlineData("""{"kind":"sales-by-day","from":"2024-01-01","to":"2025-01-02"}""", "to")]
    [InlineData("""{"kind":"sales-by-day","from":"2024-01-01","to":"2024-01-31","currency":"EURO"}""", "currency")]
    [InlineData("""{"kind":"sales-by-day","from":"2024-01-01","to":"2024-01-31","currency":"XYZ"}""", "currency")]
    public async Task An_invalid_report_request_is_400_with_the_field(string json, string field)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/reports", new StringContent(json, Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Reports_need_a_function_key_and_unknown_or_unfinished_ones_are_refused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await stack.Client.PostAsJsonAsync("api/reports", new { kind = "sales-by-day", from = "2024-01-01", to = "2024-01-02" })).StatusCode);
        using var unknown = await SendAsync(HttpMethod.Get, $"api/reports/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var unknownContent = await SendAsync(HttpMethod.Get, $"api/reports/{Guid.NewGuid()}/content");
        Assert.Equal(HttpStatusCode.NotFound, unknownContent.StatusCode);

        var queued = await InsertQueuedReportAsync();
        using var status = await SendAsync(HttpMethod.Get, $"api/reports/{queued}");
        using var content = await SendAsync(HttpMethod.Get, $"api/reports/{queued}/content");
        Assert.Equal(HttpStatusCode.Accepted, status.StatusCode);
        Assert.NotNull(status.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.Conflict, content.StatusCode);
    }

    [Fact]
    public async Task A_report_whose_message_reaches_the_poison_queue_is_sent_back_and_ends_ready()
    {
        var queued = await InsertQueuedReportAsync();
        var poison = new QueueClient(stack.StorageConnectionString, "reports-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await poison.CreateIfNotExistsAsync();

        await poison.SendMessageAsync(JsonSerializer.Serialize(new { id = queued }));

        JsonElement report = default;
        Assert.True(await Eventually.TrueAsync(
            async () =>
            {
                using var response = await SendAsync(HttpMethod.Get, $"api/reports/{queued}");
                report = await response.Content.ReadFromJsonAsync<JsonElement>();
                return report.GetProperty("status").GetString() == "ready";
            },
            Patience));
        Assert.Equal(JsonValueKind.Null, report.GetProperty("failureReason").ValueKind);
    }

    /// <summary>
    /// A report's query holds a database connection for as long as it runs, so one process runs at most
    /// Reports:MaxConcurrentGenerations (4 by default) at once, however many messages the host hands it. The test
    /// holds a lock that every report query waits on, so the ones running are seen in <c>pg_stat_activity</c>. The
    /// others wait, then give their messages back (Reports:MaxWaitForTurn, 20 s in the test stack), and come again.
    /// </summary>
    [Fact]
    public async Task Reports_past_the_concurrency_bound_wait_their_turn_then_come_back_later_and_all_end_ready()
    {
        var logMark = stack.HostLog.Mark;
        const int bound = 4;
        var locations = new List<string>();
        await using (var blocker = await stack.Database.OpenConnectionAsync())
        await using (var transaction = await blocker.BeginTransactionAsync())
        {
            await using (var lockLines = new NpgsqlCommand("LOCK TABLE order_lines IN ACCESS EXCLUSIVE MODE", blocker, transaction))
            {
                await lockLines.ExecuteNonQueryAsync();
            }

            for (var i = 0; i < bound + 2; i++)
            {
                using var created = await SendAsync(HttpMethod.Post, "api/reports", JsonContent.Create(new { kind = "sales-by-day", from = "2024-02-01", to = "2024-02-29", currency = "USD" }));
                Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
                locations.Add(created.Headers.Location!.ToString().TrimStart('/'));
            }

            var ids = locations.Select(l => Guid.Parse(l.Split('/')[^1])).ToArray();
            var blockerPid = blocker.ProcessID;
            var mostQuerying = 0L;
            async Task<long> QueryingAsync() => mostQuerying = Math.Max(mostQuerying, await QueriesWaitingOnAsync(blockerPid));
            Assert.True(
                await Eventually.TrueAsync(async () => await QueryingAsync() >= bound && await RunningAsync(ids) == ids.Length, Patience),
                "the reports were not all taken, or fewer than the bound queried");

            // Each renews its lease a third of a lease after taking it; a report free to query has long sent it by then.
            var leases = await LeasesAsync(ids);
            Assert.True(
                await Eventually.TrueAsync(
                    async () =>
                    {
                        await QueryingAsync();
                        return await LeasesRenewedSinceAsync(leases) == ids.Length;
                    },
                    Patience),
                "the waiting reports did not keep their leases");
            Assert.Equal(bound, await QueryingAsync());

            // Past their wait the two left over end their invocations; they start no query while the four hold theirs.
            Assert.True(
                await Eventually.TrueAsync(() => ids.Count(id => stack.HostLog.Since(logMark).Any(r => r.Message.Contains($"item {id} deferred while waiting for a turn", StringComparison.Ordinal))) >= 2, Patience),
                "the waiting reports did not give their messages back");
            Assert.Equal(bound, await QueryingAsync());
            await transaction.RollbackAsync();
        }

        foreach (var location in locations)
        {
            Assert.True(
                await Eventually.TrueAsync(
                    async () =>
                    {
                        using var response = await SendAsync(HttpMethod.Get, location);
                        return response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() == "ready";
                    },
                    Patience),
                $"{location} did not end ready");
        }

        // They came back on the messages they sent themselves, not on the sweep's.
        Assert.DoesNotContain(stack.HostLog.Since(logMark), r => r.Message.Contains("stranded reports rows", StringComparison.Ordinal));
    }

    private async Task<long> RunningAsync(Guid[] ids)
    {
        await using var command = stack.Database.CreateCommand("SELECT count(*) FROM reports WHERE id = ANY($1) AND status = 'running'");
        command.Parameters.AddWithValue(ids);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<Dictionary<Guid, (Guid Token, DateTime Expires)>> LeasesAsync(Guid[] ids)
    {
        await using var command = stack.Database.CreateCommand("SELECT id, lease_token, lease_expires_at FROM reports WHERE id = ANY($1)");
        command.Parameters.AddWithValue(ids);
        await using var reader = await command.ExecuteReaderAsync();
        var leases = new Dictionary<Guid, (Guid, DateTime)>();
        while (await reader.ReadAsync())
        {
            leases[reader.GetGuid(0)] = (reader.GetGuid(1), reader.GetDateTime(2));
        }

        return leases;
    }

    /// <summary>How many of the leases the same invocation (the same token) has since extended.</summary>
    private async Task<long> LeasesRenewedSinceAsync(Dictionary<Guid, (Guid Token, DateTime Expires)> leases)
    {
        await using var command = stack.Database.CreateCommand(
            """
            SELECT count(*) FROM reports r JOIN unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS before(id, token, lease) ON r.id = before.id
            WHERE r.lease_token = before.token AND r.lease_expires_at > before.lease
            """);
        command.Parameters.AddWithValue(leases.Keys.ToArray());
        command.Parameters.AddWithValue(leases.Values.Select(l => l.Token).ToArray());
        command.Parameters.AddWithValue(leases.Values.Select(l => l.Expires).ToArray());
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> QueriesWaitingOnAsync(int blockerPid)
    {
        await using var command = stack.Database.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE 'WITH rates%'");
        command.Parameters.AddWithValue(blockerPid);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<JsonElement> CreateReadyReportAsync(object request)
    {
        using var created = await SendAsync(HttpMethod.Post, "api/reports", JsonContent.Create(request));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        Assert.NotNull(created.Headers.RetryAfter);
        var location = created.Headers.Location!.ToString();

        JsonElement report = default;
        Assert.True(await Eventually.TrueAsync(
            async () =>
            {
                using var response = await SendAsync(HttpMethod.Get, location.TrimStart('/'));
                report = await response.Content.ReadFromJsonAsync<JsonElement>();
                return response.StatusCode == HttpStatusCode.OK;
            },
            Patience));
        Assert.Equal("ready", report.GetProperty("status").GetString());
        return report;
    }

    private async Task<string> ContentAsync(JsonElement report)
    {
        using var response = await SendAsync(HttpMethod.Get, report.GetProperty("contentUrl").GetString()!.TrimStart('/'));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<Dictionary<string, (long Orders, long Units, decimal Revenue)>> IndependentDailyTotalsAsync(JsonElement rates)
    {
        // Computed here, from the raw rows, with the rates the simulator publishes.
        var perUsd = rates.EnumerateObject().ToDictionary(r => r.Name, r => r.Value.GetDecimal());
        perUsd["USD"] = 1m;
        await using var command = stack.Database.CreateCommand(
            """
            SELECT o.id, (o.created_at AT TIME ZONE 'UTC')::date, o.currency, l.quantity, l.unit_price
            FROM orders o JOIN order_lines l ON l.order_id = o.id
            WHERE o.status = 'confirmed' AND o.created_at >= '2024-02-01' AND o.created_at < '2024-03-01'
            """);
        var days = new Dictionary<string, (HashSet<Guid> Orders, long Units, decimal Usd)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var day = reader.GetFieldValue<DateOnly>(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                if (!days.TryGetValue(day, out var totals))
                {
                    totals = ([], 0, 0m);
                }

                totals.Orders.Add(reader.GetGuid(0));
                days[day] = (totals.Orders, totals.Units + reader.GetInt32(3), totals.Usd + (reader.GetInt32(3) * reader.GetDecimal(4) / perUsd[reader.GetString(2)]));
            }
        }

        return days.ToDictionary(d => d.Key, d => ((long)d.Value.Orders.Count, d.Value.Units, Math.Round(d.Value.Usd, 2, MidpointRounding.AwayFromZero)));
    }

    private async Task<Guid> InsertQueuedReportAsync()
    {
        var id = Guid.NewGuid();
        // Not due for an hour: the sweep leaves it alone while the test looks at it.
        await using var command = stack.Database.CreateCommand(
            "INSERT INTO reports (id, kind, from_date, to_date, currency, next_attempt_at) VALUES ($1, 'sales-by-day', '2024-01-01', '2024-01-31', 'USD', now() + interval '1 hour')");
        command.Parameters.AddWithValue(id);
        await command.ExecuteNonQueryAsync();
        return id;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        return await stack.Client.SendAsync(request);
    }
}
