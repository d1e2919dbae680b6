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
    private readonly List<(int Scenario, LoadResult Result, double WorkerPeakRssMiB, Dictionary<string, double>? Cpu, double? TheoreticalMax)> _rows = [];

    public List<(double Milliseconds, bool Ok, double WorkerPeakRssMiB)> ColdStarts { get; } = [];

    public List<(string Name, List<double> Milliseconds)> Orders { get; } = [];

    public List<DrainResult> Drains { get; } = [];

    public List<ReportRun> Reports { get; } = [];

    public void Add(int scenario, LoadResult result, double workerPeakRssMiB, Dictionary<string, double>? cpu = null, double? theoreticalMax = null) =>
        _rows.Add((scenario, result, workerPeakRssMiB, cpu, theoreticalMax));

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

    private static string F(double value, string format = "F1") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    public IEnumerable<string> Headlines()
    {
        if (Scenario(1).FirstOrDefault() is { } fanOut)
        {
            yield return $"fan-out read, c=1: p50 {F(fanOut.P50Ms)} ms = {F(fanOut.P50Ms / 50, "F2")} x the 50 ms floor; p99 {F(fanOut.P99Ms)} ms = {F(fanOut.P99Ms / 50, "F2")} x";
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

        foreach (var row in _rows.Where(r => r.Scenario == 3))
        {
            yield return $"load c={row.Result.Connections}: {F(row.Result.RequestsPerSecond)} req/s = {F(row.Result.RequestsPerSecond / row.TheoreticalMax!.Value * 100, "F0")}% of the " +
                         $"theoretical {F(row.TheoreticalMax!.Value, "F0")}; p99 {F(row.Result.P99Ms)} ms; {row.Result.Errors} errors";
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
        Line($"Produced by `./tests/Benchmarks/run.sh` on {started:yyyy-MM-dd HH:mm} UTC. Machine: {machine}.");
        Line();
        Line($"Every process (local host + this benchmark, worker, PostgreSQL, Azurite, simulator, hey) shares the machine; " +
             $"each load step runs {duration.TotalSeconds:F0} s. Simulator latency: inventory, reviews, fx 50 ms; payments 500 ms; " +
             "shipping and notifications 0. Percentiles are hey's, over every response of the step; req/s counts 2xx responses only. " +
             "Numbers are measured, never asserted.");
        Line();
        Line("## Headlines");
        Line();
        foreach (var headline in Headlines())
        {
            Line($"- {headline}");
        }

        Line();
        Line("## 1. Fan-out read at concurrency 1 (floor: 50 ms)");
        Line();
        Line("| request | req/s | p50 ms | p99 ms | p50 / floor | p99 / floor | errors | worker peak RSS MiB |");
        Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in _rows.Where(r => r.Scenario == 1))
        {
            var r = row.Result;
            Line($"| `{r.Name}` | {F(r.RequestsPerSecond)} | {F(r.P50Ms)} | {F(r.P99Ms)} | {F(r.P50Ms / 50, "F2")} | {F(r.P99Ms / 50, "F2")} | {r.Errors} | {F(row.WorkerPeakRssMiB)} |");
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
        Line("## 3. Throughput under load (`GET /api/products/SKU-00042?currency=EUR` through the local host)");
        Line();
        Line("CPU seconds used during the step, from `/proc/<pid>/stat` utime+stime (PostgreSQL: postmaster and its backends; " +
             "hey: its rusage as a waited-for child). The local host runs inside the benchmark process, which is otherwise idle.");
        Line();
        Line("| connections | req/s | theoretical max (c / 50 ms) | % of max | p50 ms | p99 ms | errors | CPU s: host | worker | PostgreSQL | simulator | hey | worker peak RSS MiB |");
        Line("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in _rows.Where(r => r.Scenario == 3))
        {
            var r = row.Result;
            var cpu = row.Cpu!;
            Line($"| {r.Connections} | {F(r.RequestsPerSecond)} | {F(row.TheoreticalMax!.Value, "F0")} | {F(r.RequestsPerSecond / row.TheoreticalMax!.Value * 100, "F0")}% | " +
                 $"{F(r.P50Ms)} | {F(r.P99Ms)} | {r.Errors} | {string.Join(" | ", cpu.Values.Select(v => F(v)))} | {F(row.WorkerPeakRssMiB)} |");
        }

        Line();
        Line("## 4. Order acceptance (payments at 500 ms) and queue drain");
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
        Line("## 5. Cold start (`dotnet FunctionsHost.Cli.dll` started → first 200 of `/api/health`)");
        Line();
        Line("| run | ms | worker peak RSS MiB at that moment |");
        Line("| ---: | ---: | ---: |");
        for (var i = 0; i < ColdStarts.Count; i++)
        {
            var (ms, ok, rss) = ColdStarts[i];
            Line($"| {i + 1} | {(ok ? F(ms, "F0") : "no 200 within 60 s")} | {F(rss)} |");
        }

        Line();
        Line("## 6. Host overhead (concurrency 1)");
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
        Line("## 7. Reports: memory over 1,000 vs 1,000,000 order lines");
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

    /// <summary>Two grouped bar panels for scenario 2: throughput and p99 per variant and connection count.</summary>
    public string Svg()
    {
        var variants = Scenario(2).ToList();
        string[] names = ["concurrent", "sequential", "blocking"];
        string[] colors = ["#2e7d32", "#f9a825", "#c62828"];
        int[] connections = [1, 64, 256];
        const int Width = 900, Height = 420, PanelWidth = 400, Top = 60, PlotHeight = 280;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append("<text x=\"450\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">Product read: concurrent vs sequential vs blocking (dependencies at 50 ms)</text>\n");
        Panel(30, "throughput (2xx req/s)", r => r.RequestsPerSecond, logScale: false);
        Panel(480, "p50 latency (ms, log scale from 10 ms)", r => r.P50Ms, logScale: true);
        for (var v = 0; v < names.Length; v++)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{300 + (v * 110)}\" y=\"{Height - 22}\" width=\"12\" height=\"12\" fill=\"{colors[v]}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{316 + (v * 110)}\" y=\"{Height - 12}\">{names[v]}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();

        void Panel(int left, string title, Func<LoadResult, double> value, bool logScale)
        {
            var max = variants.Select(value).Where(x => !double.IsNaN(x)).DefaultIfEmpty(1).Max();
            max = max <= 0 ? 1 : max * 1.1;
            double Height(double number) => double.IsNaN(number) || number <= 0 ? 0
                : logScale ? Math.Max(0, Math.Log10(number / 10) / Math.Log10(Math.Max(max, 20) / 10) * PlotHeight)
                : number / max * PlotHeight;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + (PanelWidth / 2)}\" y=\"{Top - 12}\" text-anchor=\"middle\" font-size=\"14\">{WebUtility.HtmlEncode(title)}</text>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left + 40}\" y1=\"{Top + PlotHeight}\" x2=\"{left + PanelWidth}\" y2=\"{Top + PlotHeight}\" stroke=\"black\"/>\n");
            var groupWidth = (PanelWidth - 40) / connections.Length;
            for (var c = 0; c < connections.Length; c++)
            {
                var groupLeft = left + 40 + (c * groupWidth);
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{groupLeft + (groupWidth / 2)}\" y=\"{Top + PlotHeight + 16}\" text-anchor=\"middle\">{connections[c]} conn.</text>\n");
                for (var v = 0; v < names.Length; v++)
                {
                    var result = variants.FirstOrDefault(r => r.Name == names[v] && r.Connections == connections[c]);
                    var number = result is null ? double.NaN : value(result);
                    var h = Height(number);
                    var x = groupLeft + 10 + (v * ((groupWidth - 20) / 3));
                    var barWidth = ((groupWidth - 20) / 3) - 4;
                    svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{Top + PlotHeight - h:F1}\" width=\"{barWidth}\" height=\"{h:F1}\" fill=\"{colors[v]}\"/>");
                    svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + (barWidth / 2)}\" y=\"{Top + PlotHeight - h - 4:F1}\" text-anchor=\"middle\" font-size=\"10\">{F(number, "F0")}</text>\n");
                }
            }
        }
    }
}
