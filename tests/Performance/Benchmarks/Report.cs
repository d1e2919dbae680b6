using System.Globalization;
using System.Net;
using System.Text;
using Storefront.Api.ExternalServices;

namespace Storefront.Benchmarks;

public sealed record DrainResult(int BatchSize, int Orders, long Confirmed, double PlacingSeconds, double SpanSeconds, double PerSecond, double WorkerPeakRssMiB);

/// <summary>The app's write clients on plain HttpClients against the simulator (scenario 4's inline variant).</summary>
public sealed class ServiceCollectionLite(Uri simulator)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public PaymentsClient Payments { get; } = new(new HttpClient { BaseAddress = simulator });

    public ShippingClient Shipping { get; } = new(new HttpClient { BaseAddress = simulator });

    public NotificationsClient Notifications { get; } = new(new HttpClient { BaseAddress = simulator });

    public static HttpClient Shared => Http;
}

/// <summary>Collects the numbers and writes results.md, chart.svg and the headline lines.</summary>
public sealed class Report(TimeSpan duration)
{
    private readonly List<(int Scenario, LoadResult Result, double WorkerPeakRssMiB)> _rows = [];

    public List<(double Milliseconds, bool Ok, double WorkerPeakRssMiB)> ColdStarts { get; } = [];

    public List<(string Name, List<double> Milliseconds)> Orders { get; } = [];

    public List<DrainResult> Drains { get; } = [];

    public List<ReportRun> Reports { get; } = [];

    public List<ReadMeasurement> ReadSteps { get; } = [];

    public List<Recovery> Recoveries { get; } = [];

    public List<FirstReads> FirstReads { get; } = [];

    public List<LoadFromStart> LoadsFromStart { get; } = [];

    /// <summary>The extra steps of this build, the baseline build and FastAPI for the targets' ratios (ReadComparison.RoundsAsync).</summary>
    public List<(int Round, ReadMeasurement Measurement)> Rounds { get; } = [];

    public const string FastApiVariant = "FastAPI (2 uvicorn workers)";
    private const string ThisBuild = "this build (local host)";
    private const string BaselineBuild = "baseline build (local host)";

    private ReadMeasurement? Step(string variant, int connections) =>
        ReadSteps.FirstOrDefault(r => IsStep(r, variant, connections));

    /// <summary>CPU microseconds per answer of one process in one step.</summary>
    private static double Microseconds(ReadMeasurement measurement, string process) =>
        measurement.CpuSeconds.GetValueOrDefault(process) * 1e6 / Math.Max(1, measurement.Step.Responses);

    private static bool IsStep(ReadMeasurement measurement, string variant, int connections) =>
        measurement.Step.Variant == variant && measurement.Step.Connections == connections;

    private List<ReadMeasurement> RoundSteps(string variant, int connections) =>
        Rounds.Where(r => IsStep(r.Measurement, variant, connections)).Select(r => r.Measurement).ToList();

    /// <summary>Worker CPU microseconds per answer over all rounds of one variant: total CPU over total answers.</summary>
    private double? PooledWorkerCpu(string variant, int connections) => RoundSteps(variant, connections) is { Count: > 0 } steps
        ? steps.Sum(m => m.CpuSeconds.GetValueOrDefault("app")) * 1e6 / Math.Max(1, steps.Sum(m => m.Step.Responses))
        : null;

    /// <summary>Whole answers per second over all rounds of one variant: total whole answers over total seconds.</summary>
    private double? PooledWholePerSecond(string variant, int connections) => RoundSteps(variant, connections) is { Count: > 0 } steps
        ? steps.Sum(m => m.Step.Whole) / steps.Sum(m => m.Step.Seconds)
        : null;

    /// <summary>One variant's value over another's, round by round.</summary>
    private IEnumerable<double> RoundRatios(int connections, string variant, string other, Func<ReadMeasurement, double> value) =>
        Rounds.Select(r => r.Round).Distinct().Order().Select(round =>
        {
            double Of(string name) => Rounds.Where(r => r.Round == round && IsStep(r.Measurement, name, connections))
                .Select(r => value(r.Measurement)).DefaultIfEmpty(double.NaN).First();
            return Of(variant) / Of(other);
        });

    private string RoundsText(IEnumerable<double> ratios) => $"rounds: {string.Join(", ", ratios.Select(r => F(r, "F2")))}";

    public void Add(int scenario, LoadResult result, double workerPeakRssMiB) => _rows.Add((scenario, result, workerPeakRssMiB));

    public static double Percentile(List<double> values, double percent)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percent / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }

    private IEnumerable<LoadResult> Scenario(int scenario) => _rows.Where(r => r.Scenario == scenario).Select(r => r.Result);

    private static double WholePercent(ReadStep step) => step.Responses == 0 ? double.NaN : 100.0 * step.Whole / step.Responses;

    private static string F(double value, string format = "F1") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    public IEnumerable<string> Headlines()
    {
        if (Step(ThisBuild, 1) is { } single)
        {
            yield return $"product read, c=1: p50 {F(single.Step.P50Ms)} ms = {F(single.Step.P50Ms / 50, "F3")} x the 50 ms floor (target at most 1.05)";
        }

        if (Step(ThisBuild, 256) is { } mine256 && Step(FastApiVariant, 256) is { } python256)
        {
            var line = $"c=256, reads over {F(10000, "N0")} skus: whole answers/s {F(mine256.Step.WholePerSecond, "F0")} vs FastAPI {F(python256.Step.WholePerSecond, "F0")} " +
                       $"= {F(mine256.Step.WholePerSecond / python256.Step.WholePerSecond, "F2")}x in section 1's step";
            if (PooledWholePerSecond(ThisBuild, 256) is { } mineRounds && PooledWholePerSecond(FastApiVariant, 256) is { } pythonRounds)
            {
                line += $"; over {Rounds.Max(r => r.Round)} alternating rounds {F(mineRounds, "F0")} vs {F(pythonRounds, "F0")} = {F(mineRounds / pythonRounds, "F2")}x " +
                        $"({RoundsText(RoundRatios(256, ThisBuild, FastApiVariant, m => m.Step.WholePerSecond))})";
            }

            line += $" (target at least 1.5); p99 {F(mine256.Step.P99Ms, "F0")} vs {F(python256.Step.P99Ms, "F0")} ms = {F(mine256.Step.P99Ms / python256.Step.P99Ms, "F2")}x";
            if (RoundSteps(FastApiVariant, 256).Count > 0)
            {
                line += $" ({RoundsText(RoundRatios(256, ThisBuild, FastApiVariant, m => m.Step.P99Ms))})";
            }

            line += " (target at most 0.5)";
            if (Step(ThisBuild, 1) is { } oneConnection)
            {
                // A closed loop serves at most connections / latency: what this build could reach at 256 connections.
                line += $"; at most 256 / {F(oneConnection.Step.P50Ms)} ms (c=1 p50) = {F(256 / (oneConnection.Step.P50Ms / 1000), "F0")}/s at 256 connections";
            }

            yield return line;
        }

        foreach (var variant in ReadSteps.Select(r => r.Step.Variant).Distinct())
        {
            var steps = ReadSteps.Where(r => r.Step.Variant == variant).ToList();
            if (steps.FirstOrDefault(r => r.Step.Connections == 1024) is { } flood)
            {
                var best = steps.Max(r => r.Step.WholePerSecond);
                var others = flood.Step.Statuses.Where(s => s.Key is not (200 or 429 or 503)).Sum(s => s.Value) + flood.Step.SocketErrors;
                var without = flood.Step.Count(503) - flood.Step.RetryAfter;
                yield return $"c=1024, {variant}: whole answers/s {F(flood.Step.WholePerSecond, "F0")} = {F(flood.Step.WholePerSecond / best * 100, "F0")}% of its best " +
                             $"(target at least 90%); p99 {F(flood.Step.P99Ms, "F0")} ms; {flood.Step.StatusText}; answers other than 200/429/503: {others}; " +
                             $"503 without Retry-After: {Math.Max(0, without)}; dependency calls per 200: {F(flood.DependencyCallsPerRead, "F2")}";
            }
        }

        foreach (var recovery in Recoveries)
        {
            yield return $"after c=1024, {recovery.Variant}: read p50 {F(recovery.FirstSecondP50Ms)} ms in the first second, {F(recovery.SecondSecondP50Ms)} ms in the second, " +
                         $"slowest after 2 s {F(recovery.AfterTwoSecondsMaxMs)} ms";
        }

        foreach (var connections in new[] { 64, 256 })
        {
            if (Step(ThisBuild, connections) is { } mine && Step(BaselineBuild, connections) is { } before)
            {
                var line = $"worker CPU per answer, c={connections}: {F(Microseconds(mine, "app"), "F0")} us vs {F(Microseconds(before, "app"), "F0")} us for the baseline build " +
                           $"= {F(Microseconds(mine, "app") / Microseconds(before, "app"), "F2")}x in section 1's step";
                if (PooledWorkerCpu(ThisBuild, connections) is { } mineRounds && PooledWorkerCpu(BaselineBuild, connections) is { } beforeRounds)
                {
                    line += $"; over {Rounds.Max(r => r.Round)} alternating rounds {F(mineRounds, "F0")} vs {F(beforeRounds, "F0")} us = {F(mineRounds / beforeRounds, "F2")}x " +
                            $"({RoundsText(RoundRatios(connections, ThisBuild, BaselineBuild, m => Microseconds(m, "app")))})";
                }

                yield return line + $" (target at most 0.5); host {F(Microseconds(mine, "host"), "F0")} vs {F(Microseconds(before, "host"), "F0")} us";
            }
        }

        foreach (var first in FirstReads)
        {
            yield return first.Concurrent == 1
                ? $"first read after a start, {first.Variant}: whole in {first.AllWhole} of {first.Starts} starts"
                : $"{first.Concurrent} concurrent reads on a fresh worker, {first.Variant}: all 200 in {first.AllOk} of {first.Starts} starts, all whole in {first.AllWhole}";
        }

        foreach (var load in LoadsFromStart.Where(l => l.Starts.Count > 0))
        {
            yield return $"{load.Starts[0].Step.Connections} connections from the start of a fresh worker, {load.Variant}, first {F(load.Starts[0].Step.Seconds, "F0")} s: " +
                         $"whole answers {string.Join(", ", load.Starts.Select(m => $"{F(WholePercent(m.Step), "F0")}%"))} of all; " +
                         $"whole/s {string.Join(", ", load.Starts.Select(m => F(m.Step.WholePerSecond, "F0")))}; " +
                         $"dependency calls per 200 {string.Join(", ", load.Starts.Select(m => F(m.DependencyCallsPerRead, "F2")))}";
        }

        var variants = Scenario(2).ToList();
        foreach (var connections in new[] { 1, 64, 256 })
        {
            var concurrent = variants.FirstOrDefault(v => v.Name == "concurrent" && v.Connections == connections);
            var sequential = variants.FirstOrDefault(v => v.Name == "sequential" && v.Connections == connections);
            var blocking = variants.FirstOrDefault(v => v.Name == "blocking" && v.Connections == connections);
            if (concurrent is not null && sequential is not null && blocking is not null)
            {
                yield return $"c={connections}: concurrent/sequential throughput {F(concurrent.RequestsPerSecond / sequential.RequestsPerSecond, "F2")}x, " +
                             (blocking.Ok == 0
                                 ? "blocking: no 2xx response in the step; "
                                 : $"concurrent/blocking {F(concurrent.RequestsPerSecond / blocking.RequestsPerSecond, "F2")}x; ") +
                             $"p50 {F(concurrent.P50Ms)} / {F(sequential.P50Ms)} / {F(blocking.P50Ms)} ms";
            }
        }

        if (Orders.Count == 2)
        {
            var accept = Percentile(Orders[0].Milliseconds, 50);
            var inline = Percentile(Orders[1].Milliseconds, 50);
            yield return $"orders: accept p50 {F(accept)} ms vs inline processing p50 {F(inline)} ms ({F(inline / accept, "F1")}x)";
        }

        foreach (var drain in Drains)
        {
            yield return $"queue drain, batchSize {drain.BatchSize}: {F(drain.PerSecond)} orders confirmed/s";
        }

        foreach (var kind in Reports.Select(r => r.Kind).Distinct())
        {
            var runs = Reports.Where(r => r.Kind == kind).OrderBy(r => r.HistoryLines).ToList();
            if (runs.Count == 2)
            {
                yield return $"report {kind}: worker peak RSS {F(runs[0].PeakRssMiB, "F0")} MiB over {runs[0].HistoryLines:N0} lines vs {F(runs[1].PeakRssMiB, "F0")} MiB over {runs[1].HistoryLines:N0} lines ({F(runs[1].PeakRssMiB / runs[0].PeakRssMiB, "F2")}x)";
            }
        }

        if (ColdStarts.Count > 0)
        {
            yield return $"cold start to first 200 of /api/health: median {F(Percentile(ColdStarts.Select(c => c.Milliseconds).ToList(), 50), "F0")} ms";
        }

        var trivial = Scenario(7).ToList();
        if (trivial.Count >= 2)
        {
            yield return $"host + worker pipeline per request (trivial function vs bare Kestrel, c=1, p50): {F(trivial[0].P50Ms - trivial[1].P50Ms, "F2")} ms";
        }
    }

    public string Markdown(DateTimeOffset started, string machine)
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        Line("# Benchmark results");
        Line();
        Line($"Produced by `./tests/Performance/Benchmarks/run.sh` on {started:yyyy-MM-dd HH:mm} UTC. Machine: {machine}.");
        Line();
        Line($"Every process (local hosts, this benchmark, workers, PostgreSQL, Azurite, simulator, FastAPI, wrk, hey) shares the machine, " +
             "and so does whatever else runs on it (the load average at the end is in the machine line): compare the variants of one run " +
             $"with each other, not with another run. Each load step runs {duration.TotalSeconds:F0} s (the 1024-connection steps at least 15 s). " +
             "Simulator latency: inventory, reviews, fx 50 ms; payments 500 ms; shipping and notifications 0. Section 1 uses wrk " +
             "(percentiles over all answers); sections 2 and 5 use hey (req/s counts 2xx responses only). Numbers are measured, never asserted.");
        Line();
        Line("## Headlines");
        Line();
        foreach (var headline in Headlines())
        {
            Line($"- {headline}");
        }

        Line();
        Line("## 1. The product read side by side");
        Line();
        Line("`GET /api/products/{sku}?currency=EUR` with every request reading a random one of the 10,000 seeded skus (wrk with " +
             "`reads.lua`), inventory, reviews and FX at 50 ms, production settings (250 ms per call, 800 ms per read). The variants " +
             "take turns at each connection count: this build and the baseline build (`BENCH_BASELINE_APP`) through the local host " +
             "(`FunctionsHost.Cli`, own process; host.json throttles as the build has them), the same read on a plain ASP.NET Core " +
             "minimal API with the app's own clients, reader and product cache from Storefront.Api.dll (in the benchmark process, which is otherwise " +
             "idle), and FastAPI + asyncpg + aiohttp on uvicorn (2 workers, uvloop, httptools; `fastapi_app.py`, same rules). " +
             "Whole = 200 with nothing degraded; degraded = other 200s. Latency percentiles are wrk's over all answers. Calls per read: " +
             "simulator calls during the step per 200 answer (2 = inventory + reviews; FX is cached). CPU: microseconds per answer " +
             "from `/proc/<pid>/stat` (host: the local host process; app: the worker, the benchmark process, or uvicorn and its workers; " +
             "PostgreSQL: postmaster and backends; wrk: its rusage as a waited-for child).");
        Line();
        Line("| variant | conn. | answers/s | whole/s | degraded | p50 ms | p99 ms | statuses | Retry-After | calls/read | CPU us/answer: host | app | PostgreSQL | simulator | wrk |");
        Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var m in ReadSteps.OrderBy(r => r.Step.Connections).ThenBy(r => r.Step.Variant, StringComparer.Ordinal))
        {
            var r = m.Step;
            Line($"| {r.Variant} | {r.Connections} | {F(r.ResponsesPerSecond, "F0")} | {F(r.WholePerSecond, "F0")} | {r.Degraded} | {F(r.P50Ms)} | {F(r.P99Ms)} | {r.StatusText} | " +
                 $"{r.RetryAfter} | {F(m.DependencyCallsPerRead, "F2")} | {string.Join(" | ", ReadComparison.Processes.Select(p => F(Microseconds(m, p), "F0")))} |");
        }

        Line();
        Line("Right after the 1024-connection step, one read at a time for 3 s:");
        Line();
        Line("| variant | reads | p50 ms, first second | p50 ms, second second | slowest after 2 s, ms |");
        Line("| --- | ---: | ---: | ---: | ---: |");
        foreach (var r in Recoveries)
        {
            Line($"| {r.Variant} | {r.Probes} | {F(r.FirstSecondP50Ms)} | {F(r.SecondSecondP50Ms)} | {F(r.AfterTwoSecondsMaxMs)} |");
        }

        Line();
        Line("## 1b. The first reads after a start");
        Line();
        Line("`FunctionsHost.Cli` started as a new process; as soon as its HTTP port accepts connections (it opens once the worker is " +
             "ready), its first read, or its first 50 reads at once, of random skus in EUR.");
        Line();
        Line("| build | reads at once | starts | all 200 | all whole | per start |");
        Line("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var f in FirstReads)
        {
            Line($"| {f.Variant} | {f.Concurrent} | {f.Starts} | {f.AllOk} | {f.AllWhole} | {string.Join("; ", f.Details)} |");
        }

        if (LoadsFromStart.Count > 0)
        {
            Line();
            Line("Under load from the first moment: as soon as the port accepts connections, wrk reads at 256 connections for one step, " +
                 "while the new worker's JIT is still compiling its hot paths (a new instance that gets its share of the load at once).");
            Line();
            Line("| build | start | answers/s | whole/s | whole | p50 ms | p99 ms | statuses | calls/read |");
            Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
            foreach (var load in LoadsFromStart)
            {
                for (var i = 0; i < load.Starts.Count; i++)
                {
                    var step = load.Starts[i].Step;
                    Line($"| {load.Variant} | {i + 1} | {F(step.ResponsesPerSecond, "F0")} | {F(step.WholePerSecond, "F0")} | {F(WholePercent(step), "F0")}% | " +
                         $"{F(step.P50Ms)} | {F(step.P99Ms)} | {step.StatusText} | {F(load.Starts[i].DependencyCallsPerRead, "F2")} |");
                }
            }
        }

        if (Rounds.Count > 0)
        {
            Line();
            Line("## 1c. The compared variants in alternating rounds");
            Line();
            Line("After section 1, this build, the baseline build and FastAPI (those of them that ran; still running) read at 64 and " +
                 "256 connections again, taking turns, who goes first changing from round to round; the headlines pool the rounds " +
                 "(worker CPU: total CPU over total answers; whole answers/s: total whole answers over total seconds).");
            Line();
            Line("| round | conn. | variant | answers/s | whole/s | p50 ms | p99 ms | CPU us/answer: host | app |");
            Line("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var (round, m) in Rounds.OrderBy(r => r.Measurement.Step.Connections).ThenBy(r => r.Round).ThenBy(r => r.Measurement.Step.Variant, StringComparer.Ordinal))
            {
                var r = m.Step;
                Line($"| {round} | {r.Connections} | {r.Variant} | {F(r.ResponsesPerSecond, "F0")} | {F(r.WholePerSecond, "F0")} | {F(r.P50Ms)} | {F(r.P99Ms)} | " +
                     $"{F(Microseconds(m, "host"), "F0")} | {F(Microseconds(m, "app"), "F0")} |");
            }
        }

        Line();
        Line("## 2. Concurrent vs sequential vs blocking (the same read, in-process variants)");
        Line();
        Line("The variants run in the benchmark process on plain ASP.NET Core with the app's own `InventoryClient`, `ReviewsClient`, " +
             "`FxClient` and `ProductStore` (Storefront.Api.dll referenced directly), 20 pooled database connections like the app, " +
             "no resilience handlers and no Functions host; FX rates are read once (as the warm cache). Floors: concurrent 50 ms, " +
             "sequential and blocking 100 ms (inventory + reviews in series, plus the database).");
        Line();
        Line("| variant | connections | req/s | responses | p50 ms | p99 ms | errors |");
        Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in Scenario(2))
        {
            Line($"| {r.Name} | {r.Connections} | {F(r.RequestsPerSecond)} | {r.Responses} | {F(r.P50Ms)} | {F(r.P99Ms)} | {r.Errors} |");
        }

        Line();
        Line("hey prints a percentile only once it has 100 responses (n/a otherwise); errors include requests that hey gave up on " +
             "after 20 s. The blocking variant runs last: requests hey abandoned keep occupying the thread pool after a step ends.");

        Line();
        Line("## 3. Order acceptance (payments at 500 ms) and queue drain");
        Line();
        Line("Sequential requests (one at a time). The inline variant is `POST /api/orders` followed, in the same client-visible request, " +
             "by the three calls `ProcessOrder` makes (the app's `PaymentsClient`, `ShippingClient`, `NotificationsClient`): what a caller " +
             "would wait if processing were not queued.");
        Line();
        Line("| request | n | p50 ms | p99 ms |");
        Line("| --- | ---: | ---: | ---: |");
        foreach (var (name, values) in Orders)
        {
            Line($"| {name} | {values.Count} | {F(Percentile(values, 50))} | {F(Percentile(values, 99))} |");
        }

        Line();
        Line("Drain: 160 orders placed 32 at a time; rate = confirmed / (last `updated_at` − first `created_at`), so it includes the time " +
             "to place them. The local host holds at most batchSize + newBatchThreshold (batchSize / 2 × cores) messages at once.");
        Line();
        Line("| host.json batchSize | orders | confirmed | placing s | first accepted → last confirmed s | confirmed / s | worker peak RSS MiB |");
        Line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var d in Drains)
        {
            Line($"| {d.BatchSize} | {d.Orders} | {d.Confirmed} | {F(d.PlacingSeconds)} | {F(d.SpanSeconds)} | {F(d.PerSecond)} | {F(d.WorkerPeakRssMiB)} |");
        }

        Line();
        Line("## 4. Cold start (`dotnet FunctionsHost.Cli.dll` started → first 200 of `/api/health`)");
        Line();
        Line("| run | ms | worker peak RSS MiB at that moment |");
        Line("| ---: | ---: | ---: |");
        for (var i = 0; i < ColdStarts.Count; i++)
        {
            var (ms, ok, rss) = ColdStarts[i];
            Line($"| {i + 1} | {(ok ? F(ms, "F0") : "no 200 within 60 s")} | {F(rss)} |");
        }

        Line();
        Line("## 5. Host overhead (concurrency 1)");
        Line();
        Line("`/api/openapi.yaml` is a function with no dependency (an embedded resource); the bare-Kestrel row serves the same bytes " +
             "from a minimal ASP.NET Core endpoint in the benchmark process. The difference of the two is what the local host, its gRPC " +
             "invocation and the worker's function pipeline add per request. `/api/health` adds a PostgreSQL and a storage check.");
        Line();
        Line("| request | req/s | p50 ms | p99 ms | errors | worker peak RSS MiB |");
        Line("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in _rows.Where(r => r.Scenario == 7))
        {
            var r = row.Result;
            Line($"| {r.Name} | {F(r.RequestsPerSecond)} | {F(r.P50Ms, "F2")} | {F(r.P99Ms, "F2")} | {r.Errors} | {F(row.WorkerPeakRssMiB)} |");
        }

        Line();
        Line("## 6. Reports: memory over 1,000 vs 1,000,000 order lines");
        Line();
        Line("History written by `Storefront.Migrations` `HistoryGenerator` (binary COPY). The aggregation runs in PostgreSQL; its rows " +
             "stream from a data reader as CSV into a block blob, so the worker's peak should not depend on the input size.");
        Line();
        Line("| report | order lines | CSV rows | CSV bytes | POST → ready s | worker RSS before MiB | worker peak RSS MiB |");
        Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in Reports)
        {
            Line($"| {r.Kind} | {r.HistoryLines:N0} | {r.Rows:N0} | {r.Bytes:N0} | {F(r.Seconds)} | {F(r.BaselineRssMiB, "F0")} | {F(r.PeakRssMiB, "F0")} |");
        }

        Line();
        Line("Worker peak RSS is VmHWM of the worker process, reset before each step (`/proc/<pid>/clear_refs`), so each value is that step's peak.");
        Line();
        Line("![chart](chart.svg)");
        return md.ToString();
    }

    /// <summary>Two grouped bar panels for the side-by-side product read: whole answers per second and p99 per variant and connection count.</summary>
    public string Svg()
    {
        var names = ReadSteps.Select(r => r.Step.Variant).Distinct().ToList();
        string[] colors = ["#2e7d32", "#9e9e9e", "#1565c0", "#c62828", "#f9a825"];
        var connections = ReadSteps.Select(r => r.Step.Connections).Distinct().Order().ToList();
        const int Width = 1000, Height = 460, PanelWidth = 450, Top = 60, PlotHeight = 300;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append("<text x=\"500\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">Product read over 10,000 skus, dependencies at 50 ms, production timeouts</text>\n");
        Panel(30, "whole answers per second", r => r.Step.WholePerSecond, logScale: false);
        Panel(530, "p99 latency (ms, log scale from 10 ms)", r => r.Step.P99Ms, logScale: true);
        for (var v = 0; v < names.Count; v++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{40 + (v * 240)}\" y=\"{Height - 40 + (v / 4 * 16)}\" width=\"12\" height=\"12\" fill=\"{colors[v % colors.Length]}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{56 + (v * 240)}\" y=\"{Height - 30}\">{WebUtility.HtmlEncode(names[v])}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();

        void Panel(int left, string title, Func<ReadMeasurement, double> value, bool logScale)
        {
            var max = ReadSteps.Select(value).Where(double.IsFinite).DefaultIfEmpty(1).Max();
            max = max <= 0 ? 1 : max * 1.1;
            double BarHeight(double number) => !double.IsFinite(number) || number <= 0 ? 0
                : logScale ? Math.Max(0, Math.Log10(number / 10) / Math.Log10(Math.Max(max, 20) / 10) * PlotHeight)
                : number / max * PlotHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (PanelWidth / 2)}\" y=\"{Top - 12}\" text-anchor=\"middle\" font-size=\"14\">{WebUtility.HtmlEncode(title)}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + 20}\" y1=\"{Top + PlotHeight}\" x2=\"{left + PanelWidth}\" y2=\"{Top + PlotHeight}\" stroke=\"black\"/>\n");
            var groupWidth = (PanelWidth - 20) / Math.Max(1, connections.Count);
            var barSlot = (groupWidth - 10) / Math.Max(1, names.Count);
            for (var c = 0; c < connections.Count; c++)
            {
                var groupLeft = left + 20 + (c * groupWidth);
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{groupLeft + (groupWidth / 2)}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\">{connections[c]} conn.</text>\n");
                for (var v = 0; v < names.Count; v++)
                {
                    var number = Step(names[v], connections[c]) is { } m ? value(m) : double.NaN;
                    var h = BarHeight(number);
                    var x = groupLeft + 5 + (v * barSlot);
                    svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{Top + PlotHeight - h:F1}\" width=\"{barSlot - 2}\" height=\"{h:F1}\" fill=\"{colors[v % colors.Length]}\"/>");
                    svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + (barSlot / 2)}\" y=\"{Top + PlotHeight - h - 4:F1}\" text-anchor=\"middle\" font-size=\"9\">{F(number, "F0")}</text>\n");
                }
            }
        }
    }
}
