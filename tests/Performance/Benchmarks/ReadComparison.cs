using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Storefront.Benchmarks;

/// <summary>One product-read step of one variant, with the CPU each process used and the dependency calls made.</summary>
public sealed record ReadMeasurement(ReadStep Step, IReadOnlyDictionary<string, double> CpuSeconds, double DependencyCallsPerRead);

/// <summary>Sequential reads right after the heaviest step ended: when latency was back to normal.</summary>
public sealed record Recovery(string Variant, int Probes, double FirstSecondP50Ms, double SecondSecondP50Ms, double AfterTwoSecondsMaxMs, double LastSlowProbeSeconds);

/// <summary>Fresh starts of a host under load from its first moment: one wrk step per start, with dependency calls per read.</summary>
public sealed record LoadFromStart(string Variant, IReadOnlyList<ReadMeasurement> Starts);

/// <summary>Fresh starts of a host: what its very first request(s) got.</summary>
public sealed record FirstReads(string Variant, int Concurrent, int Starts, int AllOk, int AllWhole, IReadOnlyList<string> Details);

/// <summary>A product-read implementation under test: where it listens and which processes do its work.</summary>
public sealed record ReadVariant(string Name, Uri BaseAddress, int HostPid, Func<double> AppCpuSeconds) : IAsyncDisposable
{
    public Func<ValueTask>? Stop { get; init; }

    public async ValueTask DisposeAsync()
    {
        if (Stop is not null)
        {
            await Stop();
        }
    }
}

/// <summary>
/// The product read side by side (see README.md): the variants take turns at each connection count, reads spread over
/// the seeded skus, production timeouts; CPU per process from /proc and dependency calls from the simulator's call log.
/// </summary>
public static class ReadComparison
{
    public const string ProductPath = "/api/products/";

    public static readonly string[] Processes = ["host", "app", "PostgreSQL", "simulator", "wrk"];

    public static async Task<List<ReadMeasurement>> RunAsync(
        IReadOnlyList<ReadVariant> variants, int[] connectionCounts, Func<int, TimeSpan> durationOf, int skus, Uri simulator, int postgresPid,
        int simulatorPid, List<Recovery> recoveries, Action<string> log)
    {
        var results = new List<ReadMeasurement>();
        foreach (var variant in variants)
        {
            // JIT, pools and caches warm, as in a served app.
            await Wrk.ReadsAsync(variant.Name, variant.BaseAddress, ProductPath, skus, 64, TimeSpan.FromSeconds(5));
        }

        for (var step = 0; step < connectionCounts.Length; step++)
        {
            var connections = connectionCounts[step];
            // Who goes first rotates, so that no variant always follows the same neighbour's leftovers.
            for (var turn = 0; turn < variants.Count; turn++)
            {
                var variant = variants[(turn + step) % variants.Count];
                results.Add(await MeasureStepAsync(variant, connections, durationOf(connections), skus, simulator, postgresPid, simulatorPid, log));
                if (step == connectionCounts.Length - 1)
                {
                    recoveries.Add(await RecoveryAsync(variant, skus));
                }
            }
        }

        return results;
    }

    /// <summary>
    /// More steps at the given connection counts, for a steadier comparison (CPU per answer, whole answers per second) than
    /// one step gives on a shared machine: in each round every variant takes a turn at each count, who goes first
    /// changing from round to round.
    /// </summary>
    public static async Task<List<(int Round, ReadMeasurement Measurement)>> RoundsAsync(
        IReadOnlyList<ReadVariant> variants, int[] connectionCounts, int rounds, TimeSpan duration, int skus, Uri simulator, int postgresPid,
        int simulatorPid, Action<string> log)
    {
        var results = new List<(int, ReadMeasurement)>();
        for (var round = 1; round <= rounds; round++)
        {
            log($"round {round} of {rounds}");
            foreach (var connections in connectionCounts)
            {
                for (var turn = 0; turn < variants.Count; turn++)
                {
                    var variant = variants[(turn + round) % variants.Count];
                    results.Add((round, await MeasureStepAsync(variant, connections, duration, skus, simulator, postgresPid, simulatorPid, log)));
                }
            }
        }

        return results;
    }

    /// <summary>One load step of one variant, once its processes are quiet: answers, CPU per process, dependency calls.</summary>
    private static async Task<ReadMeasurement> MeasureStepAsync(
        ReadVariant variant, int connections, TimeSpan duration, int skus, Uri simulator, int postgresPid, int simulatorPid, Action<string> log)
    {
        await WaitUntilQuietAsync(variant);
        double[] Sample() => [variant.HostPid == 0 ? 0 : ProcStat.CpuSeconds(variant.HostPid), variant.AppCpuSeconds(), ProcStat.TreeCpuSeconds(postgresPid), ProcStat.CpuSeconds(simulatorPid)];
        var callsBefore = await LastCallSequenceAsync(simulator);
        var before = Sample();
        var measured = await Wrk.ReadsAsync(variant.Name, variant.BaseAddress, ProductPath, skus, connections, duration);
        var after = Sample();
        var calls = await LastCallSequenceAsync(simulator) - callsBefore;
        var cpu = new Dictionary<string, double>
        {
            ["host"] = after[0] - before[0],
            ["app"] = after[1] - before[1],
            ["PostgreSQL"] = after[2] - before[2],
            ["simulator"] = after[3] - before[3],
            ["wrk"] = measured.WrkCpuSeconds,
        };
        var result = new ReadMeasurement(measured, cpu, CallsPerRead(calls, measured));
        log(measured.Summary + string.Create(CultureInfo.InvariantCulture, $"; {result.DependencyCallsPerRead:F2} calls/read; CPU us/answer: ") +
            string.Join(", ", cpu.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value * 1e6 / Math.Max(1, measured.Responses):F0}"))));
        return result;
    }

    /// <summary>
    /// Waits (at most 20 s) until the variant's processes use less than 5% of a core: after a start or a heavy step a .NET
    /// process keeps recompiling hot code (tiered compilation) and collecting garbage for seconds, which the next step
    /// would otherwise count as its own CPU.
    /// </summary>
    private static async Task WaitUntilQuietAsync(ReadVariant variant)
    {
        double Cpu() => (variant.HostPid == 0 ? 0 : ProcStat.CpuSeconds(variant.HostPid)) + variant.AppCpuSeconds();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var interval = TimeSpan.FromMilliseconds(500);
        while (DateTime.UtcNow < deadline)
        {
            var before = Cpu();
            await Task.Delay(interval);
            if (Cpu() - before < interval.TotalSeconds * 0.05)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Starts a host (FunctionsHost.Cli) <paramref name="starts"/> times and sends its first <paramref name="concurrent"/>
    /// reads at once as soon as its HTTP port accepts connections (the local host opens it once the worker is ready).
    /// </summary>
    public static async Task<FirstReads> FirstReadsAfterStartAsync(
        string variant, Func<Process> startHost, int port, int starts, int concurrent, int skus, Func<Process, Task> stopHost, Action<string> log)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var allOk = 0;
        var allWhole = 0;
        var details = new List<string>();
        for (var i = 0; i < starts; i++)
        {
            var start = i + 1;
            var listened = await OnFreshHostAsync(startHost, port, stopHost, async () =>
            {
                var clock = Stopwatch.StartNew();
                var answers = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(async _ =>
                {
                    var sku = $"SKU-{Random.Shared.Next(1, skus + 1):D5}";
                    try
                    {
                        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}{ProductPath}{sku}?currency=EUR"));
                        var body = await response.Content.ReadAsStringAsync();
                        return (Status: (int)response.StatusCode, Whole: response.IsSuccessStatusCode && IsWhole(body));
                    }
                    catch (HttpRequestException)
                    {
                        return (Status: 0, Whole: false);
                    }
                    catch (TaskCanceledException)
                    {
                        return (Status: -1, Whole: false);
                    }
                }));
                var elapsed = clock.Elapsed.TotalMilliseconds;
                var ok = answers.Count(a => a.Status == 200);
                var whole = answers.Count(a => a.Whole);
                allOk += ok == concurrent ? 1 : 0;
                allWhole += whole == concurrent ? 1 : 0;
                var statuses = string.Join(" ", answers.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()}x{g.Key}"));
                details.Add(string.Create(CultureInfo.InvariantCulture, $"{statuses}, {whole} whole, {elapsed:F0} ms"));
                log($"first reads, {variant}, start {start}: {details[^1]}");
            });
            if (!listened)
            {
                details.Add("did not listen within 60 s");
            }
        }

        return new FirstReads(variant, concurrent, starts, allOk, allWhole, details);
    }

    /// <summary>
    /// Starts a host <paramref name="starts"/> times and, as soon as its HTTP port accepts connections, reads at
    /// <paramref name="connections"/> connections for <paramref name="duration"/>: a new instance that gets its share of
    /// the load at once, while its JIT is still compiling the hot paths.
    /// </summary>
    public static async Task<LoadFromStart> LoadFromStartAsync(
        string variant, Func<Process> startHost, int port, int starts, int connections, TimeSpan duration, int skus, Uri simulator,
        Func<Process, Task> stopHost, Action<string> log)
    {
        var measured = new List<ReadMeasurement>();
        for (var i = 0; i < starts; i++)
        {
            var start = i + 1;
            var listened = await OnFreshHostAsync(startHost, port, stopHost, async () =>
            {
                var callsBefore = await LastCallSequenceAsync(simulator);
                var step = await Wrk.ReadsAsync(variant, new Uri($"http://127.0.0.1:{port}/"), ProductPath, skus, connections, duration);
                var calls = await LastCallSequenceAsync(simulator) - callsBefore;
                measured.Add(new ReadMeasurement(step, new Dictionary<string, double>(), CallsPerRead(calls, step)));
                log(string.Create(CultureInfo.InvariantCulture, $"load from start, {variant}, start {start}: {step.Summary}; {measured[^1].DependencyCallsPerRead:F2} calls/read"));
            });
            if (!listened)
            {
                log($"load from start, {variant}, start {start}: did not listen within 60 s");
            }
        }

        return new LoadFromStart(variant, measured);
    }

    public static bool IsWhole(string body) =>
        body.Contains("\"degraded\":[]", StringComparison.Ordinal);

    private static async Task<Recovery> RecoveryAsync(ReadVariant variant, int skus)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        var probes = new List<(double At, double Ms)>();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            var started = clock.Elapsed.TotalMilliseconds;
            try
            {
                using var response = await http.GetAsync(new Uri(variant.BaseAddress, $"{ProductPath.TrimStart('/')}SKU-{Random.Shared.Next(1, skus + 1):D5}?currency=EUR"));
                await response.Content.ReadAsByteArrayAsync();
            }
            catch (HttpRequestException)
            {
            }

            probes.Add((started / 1000, clock.Elapsed.TotalMilliseconds - started));
        }

        double P50(IEnumerable<(double At, double Ms)> window) => Report.Percentile(window.Select(p => p.Ms).ToList(), 50);
        var normal = Report.Percentile(probes.Where(p => p.At >= 2).Select(p => p.Ms).ToList(), 50) * 2;
        var lastSlow = probes.Where(p => p.Ms > normal).Select(p => p.At + (p.Ms / 1000)).DefaultIfEmpty(0).Max();
        return new Recovery(
            variant.Name, probes.Count, P50(probes.Where(p => p.At < 1)), P50(probes.Where(p => p.At is >= 1 and < 2)),
            probes.Where(p => p.At >= 2).Select(p => p.Ms).DefaultIfEmpty(double.NaN).Max(), lastSlow);
    }

    /// <summary>
    /// Starts a host, runs <paramref name="measure"/> as soon as its HTTP port accepts connections (the local host opens it
    /// once the worker is ready), and stops the host; false when it did not listen within 60 s.
    /// </summary>
    private static async Task<bool> OnFreshHostAsync(Func<Process> startHost, int port, Func<Process, Task> stopHost, Func<Task> measure)
    {
        using var host = startHost();
        try
        {
            if (!await PortOpenAsync(port, TimeSpan.FromSeconds(60)))
            {
                return false;
            }

            await measure();
            return true;
        }
        finally
        {
            await stopHost(host);
        }
    }

    /// <summary>Simulator calls per 200 answer of a step.</summary>
    private static double CallsPerRead(long calls, ReadStep step) =>
        step.Count(200) == 0 ? double.NaN : (double)calls / step.Count(200);

    private static async Task<long> LastCallSequenceAsync(Uri simulator)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var calls = await http.GetFromJsonAsync<JsonElement>(new Uri(simulator, "admin/calls"));
        return calls.EnumerateArray().Select(c => c.GetProperty("sequence").GetInt64()).DefaultIfEmpty(0).Max();
    }

    private static async Task<bool> PortOpenAsync(int port, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(10);
            }
        }

        return false;
    }
}
