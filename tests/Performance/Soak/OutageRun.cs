using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Storefront.ServiceSimulator;

namespace Storefront.Soak;

/// <summary>
/// The scripted outage scenarios of issue #11, one after another against one stack with the app's production
/// settings: PostgreSQL stopped for 20, 60 and 120 s around orders, flaky payments and shipping, the worker killed
/// with orders in flight, Azurite stopped under report downloads. Each scenario waits (bounded) until its orders are
/// final and checks them against the database and the simulator's payments. Writes results/outages.md; exit code 0
/// only when every check of every scenario passed.
/// </summary>
public static class OutageRun
{
    /// <summary>
    /// Production's settings: the Recovery:* defaults (15 min retry budget, backoff 1 s doubling to 30 s, 15 s lease,
    /// stranded after 2 min) and the sweep schedule the app ships with (local.settings.sample.json, the README).
    /// </summary>
    private static readonly Dictionary<string, string> AppSettings = new(StringComparer.Ordinal)
    {
        ["Recovery__SweepSchedule"] = "*/30 * * * * *",
    };

    /// <summary>A hanging call of the simulator answers 504 after 10 s: the issue's "10 s hangs".</summary>
    private static readonly string[] SimulatorSettings = ["MaxHangSeconds=10"];

    /// <summary>The whole run's bound; the scenarios take 10 to 15 minutes.</summary>
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(45);

    public static async Task<int> RunAsync(SoakOptions options)
    {
        using var bound = new CancellationTokenSource(RunBound);
        var cancellationToken = bound.Token;
        var started = DateTimeOffset.UtcNow;
        LocalStack.Log($"outage scenarios start {started:u}");

        // Clients burst up to 62 orders at once; each needs its own connection to see its own answer.
        await using var stack = await LocalStack.StartAsync(options, AppSettings, SimulatorSettings, 128, cancellationToken);
        var scenarios = new OutageScenarios(stack, cancellationToken);
        var results = new List<ScenarioResult>();
        await scenarios.WarmUpAsync();
        foreach (var scenario in scenarios.All)
        {
            results.Add(await scenario());
            LocalStack.Log(OutageReport.Line(results[^1]));
        }

        await stack.DisposeAsync();
        var run = new OutageResults(options, started, DateTimeOffset.UtcNow, results);
        Directory.CreateDirectory(options.Output);
        var path = Path.Combine(options.Output, "outages.md");
        await File.WriteAllTextAsync(path, OutageReport.Markdown(run), CancellationToken.None);
        Console.WriteLine(OutageReport.Summary(run));
        LocalStack.Log($"results: {path}");
        return run.Passed ? 0 : 1;
    }
}

/// <summary>One client's order: its key and body, and what the app answered it in the end.</summary>
internal sealed class Placement(string key, string customerId, object body)
{
    private readonly Lock _gate = new();
    private Guid? _id;

    public string Key { get; } = key;

    public string CustomerId { get; } = customerId;

    public object Body { get; } = body;

    /// <summary>The order the client was answered (202) with; read while clients are still placing, hence the lock.</summary>
    public Guid? Id
    {
        get
        {
            lock (_gate)
            {
                return _id;
            }
        }

        set
        {
            lock (_gate)
            {
                _id = value;
            }
        }
    }

    public int Attempts { get; set; }

    /// <summary>A declined card makes a rejected order; every other order must end confirmed.</summary>
    public string ExpectedStatus => CustomerId.StartsWith("decline", StringComparison.Ordinal) ? "rejected" : "confirmed";
}

/// <summary>The scenarios, the clients they drive, and the checks of their orders.</summary>
internal sealed class OutageScenarios(LocalStack stack, CancellationToken cancellationToken)
{
    private const string PlaceOrder = SoakRun.PlaceOrder;

    /// <summary>A client retries a 5xx or no answer with the same key this often, at most <see cref="MaxPlacementAttempts"/> times.</summary>
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(500);

    private const int MaxPlacementAttempts = 300;

    /// <summary>Concurrent clients placing a scenario's orders (the burst has one client per order).</summary>
    private const int Callers = 16;

    /// <summary>How long a scenario waits, from the end of its outage, for every order to be final before it counts the rest as stuck.</summary>
    private static readonly TimeSpan Drain = TimeSpan.FromMinutes(5);

    /// <summary>The worker-crash bound: the dead worker's 15 s leases, a new worker and the backlog, in seconds rather than minutes.</summary>
    private static readonly TimeSpan CrashRecoveryBound = TimeSpan.FromSeconds(60);

    /// <summary>A report download must answer within this, outage or not (the app bounds opening the blob at 5 s).</summary>
    private static readonly TimeSpan DownloadBound = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IReadOnlyList<Func<Task<ScenarioResult>>> All =>
    [
        () => PostgresDownAfterOrdersAsync(1, 120, TimeSpan.FromSeconds(20), paymentsLatencyMs: 1000),
        PostgresDownDuringBurstAsync,
        () => PostgresDownAfterOrdersAsync(3, 40, TimeSpan.FromSeconds(60), paymentsLatencyMs: 1000),
        () => PostgresDownAfterOrdersAsync(4, 40, TimeSpan.FromSeconds(120), paymentsLatencyMs: 1000),
        FlakyServicesAsync,
        WorkerKilledAsync,
        AzuriteDownDuringDownloadsAsync,
    ];

    /// <summary>JIT, pools and caches of a new worker, as a served app has them; not counted.</summary>
    public async Task WarmUpAsync()
    {
        var placements = NewPlacements(0, 8);
        await PlaceAllAsync(placements, new Stats(), Callers);
        await DrainAsync(placements, DateTimeOffset.UtcNow);
        LocalStack.Log("warmed up");
    }

    /// <summary>Rows 1, 3 and 4 of the issue: orders accepted (payments slowed, so some are mid-processing), then PostgreSQL down.</summary>
    private async Task<ScenarioResult> PostgresDownAfterOrdersAsync(int number, int orders, TimeSpan outage, int paymentsLatencyMs)
    {
        var title = $"PostgreSQL down {outage.TotalSeconds:0} s right after {orders} orders were accepted";
        LocalStack.Log($"scenario {number}: {title}");
        await ConfigureAsync("payments", new ServiceSettingsUpdate(LatencyMs: paymentsLatencyMs, JitterMs: 0));
        var answers = new Stats();
        var placements = NewPlacements(number, orders);
        await PlaceAllAsync(placements, answers, Callers);
        var outageEnd = await PostgresOutageAsync(outage);
        await RestoreServicesAsync();
        var outcome = await SettleAsync(placements, outageEnd);
        return Result(
            number,
            title,
            $"{orders} orders placed by {Callers} clients (1 in 10 with a declined card), payments at {paymentsLatencyMs} ms; as soon as all were accepted PostgreSQL was stopped for {outage.TotalSeconds:0} s, then started",
            outcome,
            answers,
            "from PostgreSQL's start");
    }

    /// <summary>Row 2: PostgreSQL goes down while clients are still placing; every client retries with its key.</summary>
    private async Task<ScenarioResult> PostgresDownDuringBurstAsync()
    {
        const int number = 2;
        const int orders = 62;
        var outage = TimeSpan.FromSeconds(20);
        var title = $"PostgreSQL down {outage.TotalSeconds:0} s during a burst of {orders} orders";
        LocalStack.Log($"scenario {number}: {title}");
        await ConfigureAsync("payments", new ServiceSettingsUpdate(LatencyMs: 300, JitterMs: 0));
        var answers = new Stats();
        var placements = NewPlacements(number, orders);
        // One client per order, starting 40 ms apart: the burst spans 2.5 s and PostgreSQL stops 1 s into it.
        var clients = placements.Select((placement, i) => Task.Run(
            async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(40 * i), cancellationToken);
                await PlaceUntilAcceptedAsync(placement, answers);
            },
            cancellationToken)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var outageEnd = await PostgresOutageAsync(outage);
        await Task.WhenAll(clients);
        await RestoreServicesAsync();
        var outcome = await SettleAsync(placements, outageEnd);
        return Result(
            number,
            title,
            $"{orders} clients, one order each, starting 40 ms apart (payments at 300 ms); PostgreSQL stopped 1 s into the burst for {outage.TotalSeconds:0} s; a client that got a 5xx or no answer retried with the same Idempotency-Key every {RetryEvery.TotalMilliseconds:0} ms (at most {MaxPlacementAttempts} tries)",
            outcome,
            answers,
            "from PostgreSQL's start");
    }

    /// <summary>Row 5: payments and shipping fail or hang at random; nothing is down for long, so nothing may fail.</summary>
    private async Task<ScenarioResult> FlakyServicesAsync()
    {
        const int number = 5;
        const int orders = 450;
        var title = $"payments and shipping with 22% 503s and 10% 10 s hangs, {orders} orders";
        LocalStack.Log($"scenario {number}: {title}");
        var faults = new ServiceSettingsUpdate(ErrorRate: 0.22, ErrorStatus: 503, HangRate: 0.10);
        await ConfigureAsync("payments", faults);
        await ConfigureAsync("shipping", faults);
        var answers = new Stats();
        var placements = NewPlacements(number, orders);
        await PlaceAllAsync(placements, answers, Callers);
        var placedAt = DateTimeOffset.UtcNow;
        var outcome = await SettleAsync(placements, placedAt);
        await RestoreServicesAsync();
        return Result(
            number,
            title,
            $"{orders} orders placed by {Callers} clients; every payments and shipping call (authorize, capture, void, booking) answered 503 with probability 0.22 and hung for 10 s (then 504) with probability 0.10, on top of their usual latencies",
            outcome,
            answers,
            "from the last order's acceptance");
    }

    /// <summary>Row 6: the worker is killed (SIGKILL) with orders in flight and clients still placing.</summary>
    private async Task<ScenarioResult> WorkerKilledAsync()
    {
        const int number = 6;
        const int orders = 150;
        var title = $"worker killed with kill -9 during {orders} orders";
        LocalStack.Log($"scenario {number}: {title}");
        await ConfigureAsync("payments", new ServiceSettingsUpdate(LatencyMs: 1000, JitterMs: 0));
        var answers = new Stats();
        var placements = NewPlacements(number, orders);
        var placing = PlaceAllAsync(placements, answers, Callers);

        // Kill when half the orders are accepted: the worker is busy with the first ones, clients are mid-request.
        for (var i = 0; i < 600 && answers.Count(PlaceOrder, status => status == 202) < orders / 2 && !placing.IsCompleted; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        var inFlight = (await stack.OrdersAsync(Accepted(placements), cancellationToken)).Where(o => !o.IsFinished).Select(o => o.Id).ToHashSet();
        var restarts = stack.Host.WorkerRestarts;
        var killedAt = DateTimeOffset.UtcNow;
        stack.KillWorker();
        await placing;
        for (var i = 0; i < 600 && stack.Host.WorkerRestarts == restarts; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        var newWorkerAfter = stack.Host.WorkerRestarts > restarts ? $"{(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s" : "no new worker within 60 s";
        var outcome = await SettleAsync(placements, killedAt);
        await RestoreServicesAsync();
        var inFlightFinal = outcome.Orders.Where(o => inFlight.Contains(o.Id) && o.IsFinished).Select(o => o.UpdatedAt).DefaultIfEmpty(killedAt).Max();
        var inFlightRecovery = Max(TimeSpan.Zero, inFlightFinal - killedAt);
        var retriedKeys = placements.Count(p => p.Attempts > 1);
        return Result(
            number,
            title,
            $"{orders} orders placed by {Callers} clients, payments slowed to 1 s; when {orders / 2} were accepted ({inFlight.Count} of them not yet final) the worker process was killed (SIGKILL); the host started a new one (new worker after {newWorkerAfter}); clients retried 5xx and no answer with the same key ({retriedKeys} keys needed a retry)",
            outcome,
            answers,
            "from the kill",
            [new Check(
                $"the {inFlight.Count} orders in flight at the kill are final within {CrashRecoveryBound.TotalSeconds:0} s of it",
                outcome.Stuck == 0 && inFlightRecovery <= CrashRecoveryBound,
                $"last of them final {inFlightRecovery.TotalSeconds:F1} s after the kill")]);
    }

    /// <summary>Row 7: Azurite stopped for 20 s, then for 75 s, while a ready report is downloaded again and again.</summary>
    private async Task<ScenarioResult> AzuriteDownDuringDownloadsAsync()
    {
        const int number = 7;
        var title = "Azurite down 20 s, then 75 s, while downloading a ready report";
        LocalStack.Log($"scenario {number}: {title}");
        var answers = new Stats();
        var checks = new List<Check>();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        using var created = await SendAsync(HttpMethod.Post, "api/reports", JsonContent.Create(new { kind = "sales-by-day", from = $"{today.AddDays(-6):yyyy-MM-dd}", to = $"{today:yyyy-MM-dd}" }));
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").GetGuid();
        var ready = await PollAsync(async () => (await DownloadAsync(id, null)).Status == 200, TimeSpan.FromSeconds(60));
        checks.Add(new Check("the report is ready and downloads before the outages", ready, ready ? "200" : "not ready within 60 s"));

        var recoveries = new List<string>();
        var recovered = TimeSpan.Zero;
        foreach (var outage in new[] { TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(75) })
        {
            var during = $"GET /api/reports/{{id}}/content, Azurite down {outage.TotalSeconds:0} s";
            var after = $"GET /api/reports/{{id}}/content, after the {outage.TotalSeconds:0} s outage";
            await stack.StopAzuriteAsync(cancellationToken);
            var downloads = new List<Download>();
            var outageClock = Stopwatch.StartNew();
            for (var i = 0; i < 1_000 && outageClock.Elapsed < outage; i++)
            {
                downloads.Add(await DownloadAsync(id, answers, during));
                await Task.Delay(PollEvery, cancellationToken);
            }

            await stack.StartAzuriteAsync(cancellationToken);
            var startedAt = Stopwatch.StartNew();
            var back = await PollAsync(async () => (await DownloadAsync(id, answers, after)).Status == 200, TimeSpan.FromSeconds(90));
            recovered = Max(recovered, startedAt.Elapsed);
            recoveries.Add($"{outage.TotalSeconds:0} s outage: first 200 {startedAt.Elapsed.TotalSeconds:F1} s after Azurite's start");
            var refusedWell = downloads.Count(d => d is { Status: 503, RetryAfter: true });
            var slowest = downloads.Select(d => d.Elapsed).DefaultIfEmpty(TimeSpan.Zero).Max();
            checks.Add(new Check(
                $"Azurite down {outage.TotalSeconds:0} s: every download answered 503 with Retry-After, never 500",
                downloads.Count > 0 && refusedWell == downloads.Count,
                $"{refusedWell} of {downloads.Count} downloads 503 + Retry-After; statuses {string.Join(", ", downloads.GroupBy(d => d.Status).Select(g => $"{SoakReport.StatusName(g.Key)}: {g.Count()}"))}"));
            checks.Add(new Check(
                $"Azurite down {outage.TotalSeconds:0} s: every answer within {DownloadBound.TotalSeconds:0} s",
                slowest <= DownloadBound,
                $"slowest {slowest.TotalMilliseconds:F0} ms"));
            checks.Add(new Check(
                $"after the {outage.TotalSeconds:0} s outage the report downloads again (200)",
                back,
                back ? $"within {startedAt.Elapsed.TotalSeconds:F1} s of Azurite's start" : "not within 90 s"));
        }

        return new ScenarioResult(
            number,
            title,
            $"a sales-by-day report generated and downloaded; then Azurite (blob, queue, table) stopped for 20 s and later for 75 s while one client downloaded the report every {PollEvery.TotalSeconds:0} s; after each outage the client downloaded until it got 200 ({string.Join("; ", recoveries)})",
            null,
            answers,
            recovered,
            "from Azurite's start to the first 200",
            checks);
    }

    // --- Clients ---------------------------------------------------------------------------------------------------

    private static List<Placement> NewPlacements(int scenario, int count)
    {
        var random = new Random(scenario);
        return Enumerable.Range(0, count).Select(i =>
        {
            var customer = i % 10 == 9 ? $"decline-s{scenario}-{i}" : $"c-s{scenario}-{i}";
            var body = new
            {
                customerId = customer,
                email = $"{customer}@example.com",
                currency = i % 2 == 0 ? "USD" : "EUR",
                lines = Enumerable.Range(0, 1 + random.Next(2)).Select(_ => Load.InStockSku(random)).Distinct().Select(sku => new { sku, quantity = 1 + random.Next(3) }).ToArray(),
                shipTo = new { country = "NL", postcode = "1011AB" },
            };
            return new Placement($"outage-s{scenario}-{i}-{Guid.NewGuid():N}", customer, body);
        }).ToList();
    }

    /// <summary>Places every order, <paramref name="callers"/> at a time, each client retrying until accepted (bounded).</summary>
    private async Task PlaceAllAsync(IReadOnlyList<Placement> placements, Stats answers, int callers)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(
            async () =>
            {
                for (var i = Interlocked.Increment(ref next); i < placements.Count; i = Interlocked.Increment(ref next))
                {
                    await PlaceUntilAcceptedAsync(placements[i], answers);
                }
            },
            cancellationToken)));
    }

    /// <summary>What the README tells a client: a 5xx or no answer is retried with the same Idempotency-Key; a 4xx is not.</summary>
    private async Task PlaceUntilAcceptedAsync(Placement placement, Stats answers)
    {
        for (var attempt = 1; attempt <= MaxPlacementAttempts; attempt++)
        {
            placement.Attempts = attempt;
            var at = _clock.Elapsed;
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = stack.Keyed(HttpMethod.Post, "api/orders", JsonContent.Create(placement.Body));
                request.Headers.Add("Idempotency-Key", placement.Key);
                using var response = await stack.App.SendAsync(request, cancellationToken);
                var status = (int)response.StatusCode;
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    placement.Id = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("id").GetGuid();
                }
                else
                {
                    await response.Content.LoadIntoBufferAsync(cancellationToken);
                }

                answers.Record(PlaceOrder, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
                if (status < 500)
                {
                    return;
                }
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                answers.Record(PlaceOrder, Stats.Timeout, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
            }
            catch (HttpRequestException)
            {
                answers.Record(PlaceOrder, Stats.ConnectionError, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
            }

            await Task.Delay(RetryEvery, cancellationToken);
        }
    }

    private async Task<Download> DownloadAsync(Guid id, Stats? answers, string endpoint = SoakRun.ReportContent)
    {
        var at = _clock.Elapsed;
        var started = Stopwatch.GetTimestamp();
        int status;
        var retryAfter = false;
        try
        {
            using var response = await SendAsync(HttpMethod.Get, $"api/reports/{id}/content");
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            status = (int)response.StatusCode;
            retryAfter = response.Headers.RetryAfter is not null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            status = Stats.Timeout;
        }
        catch (HttpRequestException)
        {
            status = Stats.ConnectionError;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        answers?.Record(endpoint, status, elapsed.TotalMilliseconds, at);
        return new Download(status, retryAfter, elapsed);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, HttpContent? content = null)
    {
        using var request = stack.Keyed(method, url, content);
        return await stack.App.SendAsync(request, cancellationToken);
    }

    // --- Outages and services --------------------------------------------------------------------------------------

    /// <returns>When PostgreSQL was up again.</returns>
    private async Task<DateTimeOffset> PostgresOutageAsync(TimeSpan outage)
    {
        await stack.StopPostgresAsync(cancellationToken);
        LocalStack.Log($"PostgreSQL stopped for {outage.TotalSeconds:0} s");
        await Task.Delay(outage, cancellationToken);
        await stack.StartPostgresAsync(cancellationToken);
        LocalStack.Log("PostgreSQL started");
        return DateTimeOffset.UtcNow;
    }

    private Task ConfigureAsync(string service, ServiceSettingsUpdate update) => stack.ConfigureServiceAsync(service, update, cancellationToken);

    /// <summary>Back to the realistic latencies and no faults (without the simulator's reset, which would empty its payments).</summary>
    private async Task RestoreServicesAsync()
    {
        foreach (var (service, latency, jitter) in LocalStack.Latencies)
        {
            await ConfigureAsync(service, new ServiceSettingsUpdate(latency, jitter, ErrorRate: 0, ErrorStatus: 503, HangRate: 0));
        }
    }

    // --- Checks ----------------------------------------------------------------------------------------------------

    private static Guid[] Accepted(IEnumerable<Placement> placements) => placements.Where(p => p.Id is not null).Select(p => p.Id!.Value).ToArray();

    /// <summary>Waits (bounded) until every accepted order is final, then reads the orders, the keys and the payments.</summary>
    private async Task<OrderOutcome> SettleAsync(IReadOnlyList<Placement> placements, DateTimeOffset recoveryFrom)
    {
        await DrainAsync(placements, recoveryFrom);
        var ids = Accepted(placements);
        var orders = await stack.OrdersAsync(ids, cancellationToken);
        var ordersOfKeys = await OrdersOfKeysAsync(placements.Select(p => p.Key).ToArray());
        var payments = await stack.PaymentsAsync(cancellationToken);
        var reservations = await stack.ReservationsAsync(cancellationToken);
        var stock = await stack.StockAsync(reservations, cancellationToken);
        var byId = orders.ToDictionary(o => o.Id);
        var lastFinal = orders.Where(o => o.IsFinished).Select(o => o.UpdatedAt).DefaultIfEmpty(recoveryFrom).Max();
        return new OrderOutcome(
            placements.Count,
            ids.Length,
            orders,
            Lost: ids.Length - orders.Count,
            Stuck: orders.Count(o => !o.IsFinished),
            FailedForTransientCause: orders.Count(o => o.Status == "failed" && IsTransientFailure(o.FailureReason)),
            UnexpectedStatus: placements.Count(p => p.Id is { } id && byId.TryGetValue(id, out var order) && order.IsFinished && order.Status != p.ExpectedStatus),
            KeysNotOneOrder: placements.Count(p => ordersOfKeys.GetValueOrDefault(p.Key) is not [var only] || only != p.Id),
            FailureReasons: orders.Where(o => o.Status == "failed").GroupBy(o => o.FailureReason ?? "(none)").Select(g => $"{g.Count()}× {g.Key}").ToArray(),
            Payments: PaymentAudit.Of(orders, payments),
            Stock: StockAudit.Of(orders, reservations, stock),
            Recovery: Max(TimeSpan.Zero, lastFinal - recoveryFrom));
    }

    private async Task DrainAsync(IReadOnlyList<Placement> placements, DateTimeOffset from)
    {
        var ids = Accepted(placements);
        var maxPolls = (int)(Drain / PollEvery) + 1;
        for (var poll = 0; poll < maxPolls && DateTimeOffset.UtcNow - from < Drain; poll++)
        {
            try
            {
                var byStatus = await stack.OrderStatusesAsync(ids, cancellationToken);
                if (byStatus.Where(s => s.Key is "accepted" or "processing").Sum(s => s.Value) == 0)
                {
                    return;
                }
            }
            catch (NpgsqlException exception) when (exception.IsTransient)
            {
                LocalStack.Log($"drain: {exception.Message}");
            }

            await Task.Delay(PollEvery, cancellationToken);
        }
    }

    /// <summary>The orders stored under each key (the app keeps one per key; a client must get that one back).</summary>
    private async Task<Dictionary<string, List<Guid>>> OrdersOfKeysAsync(string[] keys)
    {
        await using var command = stack.Database.CreateCommand("SELECT idempotency_key, id FROM orders WHERE idempotency_key = ANY($1)");
        command.Parameters.AddWithValue(keys);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetString(0);
            if (!result.TryGetValue(key, out var ids))
            {
                result[key] = ids = [];
            }

            ids.Add(reader.GetGuid(1));
        }

        return result;
    }

    /// <summary>The runner's words for giving up on transient failures once the retry budget is spent (QueuedWorkRunner).</summary>
    private static bool IsTransientFailure(string? reason) => reason?.StartsWith("gave up after retrying", StringComparison.Ordinal) == true;

    private async Task<bool> PollAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        var maxPolls = (int)(within / PollEvery) + 1;
        for (var poll = 0; poll < maxPolls && clock.Elapsed < within; poll++)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(PollEvery, cancellationToken);
        }

        return false;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static ScenarioResult Result(int number, string title, string done, OrderOutcome orders, Stats answers, string recoveryFrom, IReadOnlyList<Check>? extra = null)
    {
        var placementAnswers = answers.Statuses(PlaceOrder);
        var checks = new List<Check>
        {
            new("every order accepted (a client that got a 5xx or no answer retried with its key)", orders.Accepted == orders.Placed, $"{orders.Accepted} of {orders.Placed} accepted"),
            new("no 4xx answer to an order placement", !placementAnswers.Any(a => a.Status is >= 400 and < 500), string.Join(", ", placementAnswers.Select(a => $"{SoakReport.StatusName(a.Status)}: {a.Count}"))),
            new("each key made exactly one order, the one its client was answered", orders.KeysNotOneOrder == 0, $"{orders.KeysNotOneOrder} keys without exactly their order"),
            new("nothing lost: every accepted order is in the database", orders.Lost == 0, $"{orders.Lost} lost"),
            new($"nothing stuck: every order final within {Drain.TotalMinutes:0} min", orders.Stuck == 0, $"{orders.Stuck} unfinished"),
            new("every order confirmed, or rejected for a declined card; 0 failed for a transient cause", orders.UnexpectedStatus == 0 && orders.FailedForTransientCause == 0,
                $"{orders.UnexpectedStatus} with another status, {orders.FailedForTransientCause} failed for a transient cause{(orders.FailureReasons.Length > 0 ? ": " + string.Join("; ", orders.FailureReasons) : string.Empty)}"),
            new("every confirmed order captured exactly once; no order captured twice or charged twice", orders.Payments is { ConfirmedNotCapturedOnce: 0, CapturedTwice: 0, DoubleCharged: 0 },
                $"{orders.Payments.ConfirmedCapturedOnce} captured once, {orders.Payments.ConfirmedNotCapturedOnce} confirmed not captured once, {orders.Payments.CapturedTwice} captured twice, {orders.Payments.DoubleCharged} charged twice"),
            new("no rejected or failed order with an open authorization or a capture; every rejected order declined", orders.Payments is { OpenAuthorizations: 0, CapturedButNotConfirmed: 0, RejectedNotDeclined: 0 },
                $"{orders.Payments.OpenAuthorizations} open authorizations, {orders.Payments.CapturedButNotConfirmed} captured, {orders.Payments.RejectedNotDeclined} rejected without a declined payment, {orders.Payments.Voids} voids"),
            new("stock consistent with the orders: nothing oversold, no finished order still holding its reservation, every confirmed order's stock committed", orders.Stock.Passed,
                $"{orders.Stock.Reservations} reservations, {orders.Stock.OversoldUnits} oversold units, {orders.Stock.OpenReservations} open, {orders.Stock.ConfirmedNotCommitted} confirmed not committed"),
        };
        checks.AddRange(extra ?? []);
        return new ScenarioResult(number, title, done, orders, answers, orders.Recovery, recoveryFrom + " to the last order final", checks);
    }
}

internal sealed record Download(int Status, bool RetryAfter, TimeSpan Elapsed);
