using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace Storefront.Soak;

/// <summary>
/// Starts the stack (<see cref="LocalStack"/>: the simulator in-process with realistic latencies, the app under the
/// local host, like the tests' fixture), drives mixed load with a fixed number of callers for the configured time,
/// waits (bounded) until every placed order is final, and writes results/soak.md. Exit code 0 only when nothing was
/// lost, no caller saw a 5xx or a timeout, the money followed every order (<see cref="PaymentAudit"/>) and no stock was
/// oversold or left held (<see cref="StockAudit"/>).
/// </summary>
public static partial class SoakRun
{
    public const string ProductRead = "GET /api/products/{sku}";
    public const string Lookup = "POST /api/products/lookup";
    public const string PlaceOrder = "POST /api/orders";
    public const string PollOrder = "GET /api/orders/{id}";
    public const string CreateReport = "POST /api/reports";
    public const string PollReport = "GET /api/reports/{id}";
    public const string ReportContent = "GET /api/reports/{id}/content";

    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The soak's settings on top of production's: a quicker sweep, and, because two cores are shared by PostgreSQL,
    /// Azurite, host, worker, simulator and the callers, 1 s instead of the 250 ms production timeouts of the
    /// request-path reads, which would trip on scheduling alone (as in the tests); the 800 ms
    /// request budget still bounds every product read.
    /// </summary>
    private static readonly Dictionary<string, string> AppSettings = new(StringComparer.Ordinal)
    {
        ["Recovery__SweepSchedule"] = "*/10 * * * * *",
        ["Services__Inventory__Timeout"] = "00:00:01",
        ["Services__Reviews__Timeout"] = "00:00:01",
        ["Services__Fx__Timeout"] = "00:00:01",
    };

    public static async Task<int> RunAsync(SoakOptions options)
    {
        var started = DateTimeOffset.UtcNow;
        Log($"soak start {started:u}: {options.Duration.TotalMinutes:0.##} min, {options.Workers} callers, {options.Think.TotalMilliseconds:0} ms think time");

        await using var stack = await LocalStack.StartAsync(options, AppSettings, [], options.Workers * 2, CancellationToken.None);
        var postgresLogStart = File.Exists(options.PostgresLog) ? new FileInfo(options.PostgresLog).Length : 0;
        var host = stack.Host;
        var database = stack.Database;
        var http = stack.App;
        var functionKey = stack.FunctionKey;

        // --- Warm-up (not counted): JIT, pools, FX cache -------------------------------------------------------------
        var warmUpLoad = new Load(http, functionKey, new Stats(), options with { Duration = WarmUp }, 0);
        await warmUpLoad.RunAsync(CancellationToken.None);
        var warmUpOrders = warmUpLoad.Placed.ToArray();

        // --- The load ------------------------------------------------------------------------------------------------
        var stats = new Stats();
        var load = new Load(http, functionKey, stats, options, 1);
        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            // Bounded: one sample per interval for the run's length (plus slack).
            var maxSamples = (int)(options.Duration / SampleEvery) + 3;
            for (var i = 0; i < maxSamples && !sampling.IsCancellationRequested; i++)
            {
                samples.Add(new Sample(clock.Elapsed, host.WorkerProcessId, RssMiB(host.WorkerProcessId), RssMiB(Environment.ProcessId), await AppConnectionsAsync(database)));
                try
                {
                    await Task.Delay(SampleEvery, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
        await load.RunAsync(CancellationToken.None);
        var loadElapsed = clock.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        samples.Add(new Sample(clock.Elapsed, host.WorkerProcessId, RssMiB(host.WorkerProcessId), RssMiB(Environment.ProcessId), await AppConnectionsAsync(database)));
        Log($"load done: {stats.Total(_ => true)} requests in {loadElapsed.TotalSeconds:F0} s; draining orders");

        // --- Drain: every placed order final, bounded -----------------------------------------------------------------
        var placed = load.Placed.Concat(warmUpOrders).Distinct().ToArray();
        var drainClock = Stopwatch.StartNew();
        Dictionary<string, long> byStatus;
        do
        {
            byStatus = await stack.OrderStatusesAsync(placed, CancellationToken.None);
            if (Unfinished(byStatus) == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        while (drainClock.Elapsed < options.Drain);

        var reportIds = load.Reports.Concat(warmUpLoad.Reports).Distinct().ToArray();
        Dictionary<string, long> reportsByStatus;
        do
        {
            reportsByStatus = await stack.ReportStatusesAsync(reportIds, CancellationToken.None);
            if (reportsByStatus.Where(s => s.Key is "queued" or "running").Sum(s => s.Value) == 0)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        while (drainClock.Elapsed < options.Drain);

        var drainTime = drainClock.Elapsed;
        var lost = (int)(placed.Length - byStatus.Values.Sum());
        var reportsLost = (int)(reportIds.Length - reportsByStatus.Values.Sum());

        // --- Money: every stored payment of the simulator, against the orders' final statuses ----------------------
        var finalOrders = await stack.OrdersAsync(placed, CancellationToken.None);
        var payments = PaymentAudit.Of(finalOrders, await stack.PaymentsAsync(CancellationToken.None));

        // --- Stock: the simulator's reservations and levels, against the orders' final statuses --------------------
        var reservations = await stack.ReservationsAsync(CancellationToken.None);
        var stock = StockAudit.Of(finalOrders, reservations, await stack.StockAsync(reservations, CancellationToken.None));
        var workerRestarts = host.WorkerRestarts;
        await stack.DisposeAsync();

        // --- Pool health: the host log (Warning+) and the PostgreSQL log --------------------------------------------
        var hostLog = File.Exists(options.HostLog) ? await File.ReadAllLinesAsync(options.HostLog) : [];
        var poolErrors = hostLog.Count(l => l.Contains("53300", StringComparison.Ordinal)
            || l.Contains("connection pool has been exhausted", StringComparison.OrdinalIgnoreCase)
            || l.Contains("too many clients", StringComparison.OrdinalIgnoreCase));
        var npgsqlTimeouts = hostLog.Count(l => l.Contains("Npgsql", StringComparison.Ordinal) && l.Contains("Timeout", StringComparison.OrdinalIgnoreCase));
        var tooManyClients = await CountInTailAsync(options.PostgresLog, postgresLogStart, "too many clients");
        var warningCategories = hostLog
            .Select(l => LogLine().Match(l))
            .Where(m => m.Success)
            .GroupBy(m => $"{m.Groups[1].Value} {m.Groups[2].Value}")
            .Select(g => (Name: g.Key, Count: g.Count()))
            .OrderByDescending(g => g.Count)
            .Take(8)
            .ToArray();

        var reports = new ReportOutcome(reportIds.Length, reportsByStatus, reportsLost, load.ContentFetches, load.ContentFailures);
        var result = new SoakResult(
            options,
            started,
            DateTimeOffset.UtcNow,
            loadElapsed,
            stats,
            samples,
            placed.Length,
            load.Replays,
            load.ReplayMismatches,
            byStatus,
            lost,
            drainTime,
            payments,
            stock,
            workerRestarts,
            poolErrors,
            npgsqlTimeouts,
            tooManyClients,
            warningCategories,
            reports);
        Directory.CreateDirectory(options.Output);
        var markdown = SoakReport.Markdown(result);
        await File.WriteAllTextAsync(Path.Combine(options.Output, "soak.md"), markdown);
        Console.WriteLine(SoakReport.Summary(result));
        Log($"results: {Path.Combine(options.Output, "soak.md")}");
        return result.Passed ? 0 : 1;
    }

    /// <summary>A FileLoggerProvider line: time, level (padded), category, colon, message.</summary>
    [GeneratedRegex(@"^\S+ (Warning|Error|Critical)\s+([^:\s]+):")]
    private static partial Regex LogLine();

    private static long Unfinished(Dictionary<string, long> byStatus) =>
        byStatus.Where(s => s.Key is not ("confirmed" or "rejected" or "failed")).Sum(s => s.Value);

    /// <summary>The app's open connections (its pool's physical connections), from pg_stat_activity.</summary>
    private static async Task<int> AppConnectionsAsync(NpgsqlDataSource database)
    {
        try
        {
            await using var command = database.CreateCommand("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'Storefront.Api'");
            return (int)(await command.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException)
        {
            return -1;
        }
    }

    private static async Task<int> CountInTailAsync(string? path, long from, string text)
    {
        if (path is null || !File.Exists(path))
        {
            return 0;
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        var count = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            count += line.Contains(text, StringComparison.OrdinalIgnoreCase) ? 1 : 0;
        }

        return count;
    }

    /// <summary>VmRSS of a process in MiB, from /proc/&lt;pid&gt;/status; NaN when it cannot be read.</summary>
    public static double RssMiB(int? pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kib = double.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    return kib / 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }

    private static void Log(string message) => LocalStack.Log(message);
}

/// <summary>One resource sample: worker and soak-process RSS, the app's PostgreSQL connections.</summary>
public sealed record Sample(TimeSpan At, int? WorkerPid, double WorkerRssMiB, double SoakRssMiB, int AppConnections);

/// <summary>
/// The callers: each loops (bounded in count and in time) over a weighted mix of product reads (50%), lookups
/// (15%), order placements (15%, unique Idempotency-Key; one in 20 is sent twice, as a client retry), polls of
/// placed orders (19%), report requests (0.5%) and report polls or downloads (0.5%), waiting for each answer,
/// then the think time.
/// </summary>
internal sealed class Load(HttpClient http, string functionKey, Stats stats, SoakOptions options, int seed)
{
    private readonly ConcurrentQueue<Guid> _placed = new();
    private readonly ConcurrentQueue<Guid> _reports = new();
    private readonly ConcurrentDictionary<Guid, bool> _readyReports = new();
    private long _contentFetches;
    private long _contentFailures;
    private readonly List<Guid> _pollable = [];
    private readonly Lock _gate = new();
    private long _replays;
    private long _replayMismatches;

    public IEnumerable<Guid> Placed => _placed;

    public IEnumerable<Guid> Reports => _reports;

    public long ContentFetches => Interlocked.Read(ref _contentFetches);

    public long ContentFailures => Interlocked.Read(ref _contentFailures);

    public long Replays => Interlocked.Read(ref _replays);

    public long ReplayMismatches => Interlocked.Read(ref _replayMismatches);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // A caller makes at most one request per 10 ms of the run: a hard bound on the loop whatever the timings.
        var maxIterations = (int)(options.Duration.TotalMilliseconds / 10) + 1;
        await Task.WhenAll(Enumerable.Range(0, options.Workers).Select(worker => Task.Run(
            async () =>
            {
                var random = new Random(seed * 1_000 + worker);
                for (var i = 0; i < maxIterations && clock.Elapsed < options.Duration && !cancellationToken.IsCancellationRequested; i++)
                {
                    var roll = random.Next(1_000);
                    if (roll < 500)
                    {
                        await ReadProductAsync(random, clock);
                    }
                    else if (roll < 650)
                    {
                        await LookupAsync(random, clock);
                    }
                    else if (roll < 800)
                    {
                        await PlaceOrderAsync(random, clock);
                    }
                    else if (roll < 990)
                    {
                        await PollOrderAsync(random, clock);
                    }
                    else if (roll < 995)
                    {
                        await CreateReportAsync(random, clock);
                    }
                    else
                    {
                        await FollowReportAsync(random, clock);
                    }

                    if (options.Think > TimeSpan.Zero)
                    {
                        await Task.Delay(options.Think, cancellationToken);
                    }
                }
            },
            cancellationToken)));
    }

    private Task ReadProductAsync(Random random, Stopwatch clock)
    {
        var currency = random.Next(2) == 0 ? "USD" : "EUR";
        return SendAsync(SoakRun.ProductRead, () => new HttpRequestMessage(HttpMethod.Get, $"api/products/{Sku(random, 10_000)}?currency={currency}"), clock);
    }

    private Task LookupAsync(Random random, Stopwatch clock)
    {
        var skus = Enumerable.Range(0, 5).Select(_ => Sku(random, 10_000)).Distinct().ToArray();
        return SendAsync(SoakRun.Lookup, () => new HttpRequestMessage(HttpMethod.Post, "api/products/lookup") { Content = JsonContent.Create(new { skus, currency = "EUR" }) }, clock);
    }

    private async Task PlaceOrderAsync(Random random, Stopwatch clock)
    {
        var key = Guid.NewGuid().ToString("N");
        var customer = random.Next(20) == 0 ? $"decline-{random.Next(1_000)}" : $"c-{random.Next(100_000)}";
        var lines = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => InStockSku(random)).Distinct()
            .Select(sku => new { sku, quantity = 1 + random.Next(3) }).ToArray();
        var body = new
        {
            customerId = customer,
            email = $"{customer}@example.com",
            currency = random.Next(2) == 0 ? "USD" : "EUR",
            lines,
            shipTo = new { country = random.Next(3) == 0 ? "DE" : "NL", postcode = "1011AB" },
        };

        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "api/orders") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            request.Headers.Add("x-functions-key", functionKey);
            return request;
        }

        var id = await SendAsync(SoakRun.PlaceOrder, Request, clock, readId: true);
        if (id is not { } placed)
        {
            return;
        }

        _placed.Enqueue(placed);
        lock (_gate)
        {
            _pollable.Add(placed);
        }

        if (random.Next(20) == 0)
        {
            // The client did not see the answer and retries: the same order comes back, nothing new is made.
            Interlocked.Increment(ref _replays);
            var again = await SendAsync(SoakRun.PlaceOrder, Request, clock, readId: true);
            if (again is { } replayed && replayed != placed)
            {
                Interlocked.Increment(ref _replayMismatches);
            }
        }
    }

    private Task PollOrderAsync(Random random, Stopwatch clock)
    {
        Guid id;
        lock (_gate)
        {
            if (_pollable.Count == 0)
            {
                return ReadProductAsync(random, clock);
            }

            // Mostly recent orders (still moving), sometimes old ones.
            var index = random.Next(4) == 0 ? random.Next(_pollable.Count) : Math.Max(0, _pollable.Count - 1 - random.Next(50));
            id = _pollable[index];
        }

        return SendAsync(
            SoakRun.PollOrder,
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"api/orders/{id}");
                request.Headers.Add("x-functions-key", functionKey);
                return request;
            },
            clock);
    }

    private async Task CreateReportAsync(Random random, Stopwatch clock)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var body = new
        {
            kind = random.Next(2) == 0 ? "sales-by-day" : "top-products",
            from = today.AddDays(-6).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            to = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            currency = random.Next(2) == 0 ? "USD" : "EUR",
        };
        var id = await SendAsync(SoakRun.CreateReport, () => Keyed(new HttpRequestMessage(HttpMethod.Post, "api/reports") { Content = JsonContent.Create(body) }), clock, readId: true);
        if (id is { } created)
        {
            _reports.Enqueue(created);
        }
    }

    /// <summary>Downloads a ready report not downloaded yet, or polls the newest reports' status.</summary>
    private async Task FollowReportAsync(Random random, Stopwatch clock)
    {
        if (_readyReports.Keys.FirstOrDefault(id => _readyReports.TryUpdate(id, true, false)) is { } ready && ready != Guid.Empty)
        {
            Interlocked.Increment(ref _contentFetches);
            var status = await SendStatusAsync(SoakRun.ReportContent, () => Keyed(new HttpRequestMessage(HttpMethod.Get, $"api/reports/{ready}/content")), clock);
            if (status != 200)
            {
                Interlocked.Increment(ref _contentFailures);
            }

            return;
        }

        var recent = _reports.Reverse().Take(20).ToArray();
        if (recent.Length == 0)
        {
            await CreateReportAsync(random, clock);
            return;
        }

        var id = recent[random.Next(recent.Length)];
        var polled = await SendStatusAsync(SoakRun.PollReport, () => Keyed(new HttpRequestMessage(HttpMethod.Get, $"api/reports/{id}")), clock);
        if (polled == 200)
        {
            // 200 means final (ready or failed); a failed report's content answers 409, counted as a failure.
            _readyReports.TryAdd(id, false);
        }
    }

    private HttpRequestMessage Keyed(HttpRequestMessage request)
    {
        request.Headers.Add("x-functions-key", functionKey);
        return request;
    }

    private async Task<int> SendStatusAsync(string endpoint, Func<HttpRequestMessage> create, Stopwatch clock)
    {
        var at = clock.Elapsed;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = create();
            using var response = await http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            stats.Record(endpoint, (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
            return (int)response.StatusCode;
        }
        catch (TaskCanceledException)
        {
            stats.Record(endpoint, Stats.Timeout, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
        }
        catch (HttpRequestException)
        {
            stats.Record(endpoint, Stats.ConnectionError, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
        }

        return 0;
    }

    private async Task<Guid?> SendAsync(string endpoint, Func<HttpRequestMessage> create, Stopwatch clock, bool readId = false)
    {
        var at = clock.Elapsed;
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = create();
            using var response = await http.SendAsync(request);
            Guid? id = null;
            if (readId && response.StatusCode == HttpStatusCode.Accepted)
            {
                id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            }
            else
            {
                await response.Content.LoadIntoBufferAsync();
            }

            stats.Record(endpoint, (int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
            return id;
        }
        catch (TaskCanceledException)
        {
            stats.Record(endpoint, Stats.Timeout, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
        }
        catch (HttpRequestException)
        {
            stats.Record(endpoint, Stats.ConnectionError, Stopwatch.GetElapsedTime(started).TotalMilliseconds, at);
        }

        return null;
    }

    private static string Sku(Random random, int products) => $"SKU-{1 + random.Next(products):D5}";

    /// <summary>A sku the simulator always has 5 or more of (not 13, not a multiple of 97 or 89).</summary>
    internal static string InStockSku(Random random)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var n = 1 + random.Next(10_000);
            if (n != 13 && n % 97 != 0 && n % 89 != 0)
            {
                return $"SKU-{n:D5}";
            }
        }

        return "SKU-00001";
    }
}
