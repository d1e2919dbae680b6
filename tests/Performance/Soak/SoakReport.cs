using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Storefront.Soak;

/// <summary>Everything one soak run measured.</summary>
public sealed record SoakResult(
    SoakOptions Options,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    TimeSpan LoadElapsed,
    Stats Stats,
    IReadOnlyList<Sample> Samples,
    int OrdersPlaced,
    long Replays,
    long ReplayMismatches,
    IReadOnlyDictionary<string, long> OrdersByStatus,
    int OrdersLost,
    TimeSpan DrainTime,
    PaymentAudit Payments,
    StockAudit Stock,
    int WorkerRestarts,
    int PoolErrors,
    int NpgsqlTimeouts,
    int TooManyClients,
    IReadOnlyList<(string Name, int Count)> LogWarnings,
    ReportOutcome Reports)
{
    public long ServerErrors => Stats.Total(s => s >= 500);

    public long Unanswered => Stats.Total(s => s < 0);

    public long ServiceUnavailable => Stats.Total(s => s == 503);

    public long OrdersFinished => OrdersByStatus.Where(s => s.Key is "confirmed" or "rejected" or "failed").Sum(s => s.Value);

    public long OrdersUnfinished => OrdersByStatus.Values.Sum() - OrdersFinished;

    /// <summary>Worker RSS averages of the first and the last minute of the load.</summary>
    public (double First, double Last) Rss
    {
        get
        {
            var valid = Samples.Where(s => !double.IsNaN(s.WorkerRssMiB)).ToArray();
            var end = valid.Length == 0 ? TimeSpan.Zero : valid[^1].At;
            var first = valid.Where(s => s.At <= TimeSpan.FromMinutes(1)).Select(s => s.WorkerRssMiB).DefaultIfEmpty(double.NaN).Average();
            var last = valid.Where(s => s.At >= end - TimeSpan.FromMinutes(1)).Select(s => s.WorkerRssMiB).DefaultIfEmpty(double.NaN).Average();
            return (first, last);
        }
    }

    public bool Passed =>
        ServerErrors == 0 && Unanswered == 0 && OrdersLost == 0 && OrdersUnfinished == 0 && Payments.Passed && Stock.Passed
        && Reports.Lost == 0 && Reports.Unfinished == 0
        && ReplayMismatches == 0 && WorkerRestarts == 0 && PoolErrors == 0 && TooManyClients == 0;
}

/// <summary>Reports requested during the run, and what became of them.</summary>
public sealed record ReportOutcome(int Requested, IReadOnlyDictionary<string, long> ByStatus, int Lost, long ContentFetches, long ContentFailures)
{
    public long Unfinished => ByStatus.Where(s => s.Key is "queued" or "running").Sum(s => s.Value);
}

/// <summary>results/soak.md and the console summary.</summary>
public static class SoakReport
{
    public static string Markdown(SoakResult r)
    {
        var md = new StringBuilder();
        var (rssFirst, rssLast) = r.Rss;
        AppendHeading(md, "Soak results", r.Options.Command, $". **{(r.Passed ? "PASSED" : "FAILED")}**: {Verdict(r)}.", r.Started, r.Finished);
        md.AppendLine(CultureInfo.InvariantCulture, $"| stack | the app (Release) under the repo's local Functions host, the service simulator in-process, PostgreSQL and Azurite from `infra/local` scripts, all on this machine |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| load | {r.Options.Workers} concurrent callers, {r.Options.Think.TotalMilliseconds:0} ms think time, {r.LoadElapsed.TotalMinutes:F1} min measured after a 20 s warm-up; per-request timeout {r.Options.RequestTimeout.TotalSeconds:0} s |");
        md.AppendLine("| mix | product reads 50% (USD/EUR, 10,000 skus), lookups of 5 skus 15%, order placements 15% (unique `Idempotency-Key`; 1 in 20 re-sent as a client retry; 1 in 20 customers declined by payments), order status polls 19%, report requests 0.5% (last 7 days, sales-by-day or top-products), report polls and downloads 0.5% |");
        md.AppendLine("| service latencies | inventory 25+0..30 ms, reviews 35+0..40, fx 60+0..40, payments 250+0..150, shipping 150+0..100, notifications 40+0..30; no injected faults |");
        md.AppendLine();

        md.AppendLine("## Requests");
        md.AppendLine();
        md.AppendLine("| endpoint | requests | 2xx | 4xx | 5xx | no answer | statuses | p50 ms | p95 ms | p99 ms | max ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var endpoint in r.Stats.Endpoints)
        {
            var statuses = string.Join(", ", r.Stats.Statuses(endpoint).Select(s => $"{StatusName(s.Status)}: {s.Count}"));
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| `{endpoint}` | {r.Stats.Count(endpoint, _ => true)} | {r.Stats.Count(endpoint, s => s is >= 200 and < 300)} | {r.Stats.Count(endpoint, s => s is >= 400 and < 500)} | {r.Stats.Count(endpoint, s => s >= 500)} | {r.Stats.Count(endpoint, s => s < 0)} | {statuses} | {r.Stats.Percentile(endpoint, 50):F1} | {r.Stats.Percentile(endpoint, 95):F1} | {r.Stats.Percentile(endpoint, 99):F1} | {r.Stats.Max(endpoint):F0} |");
        }

        var total = r.Stats.Total(_ => true);
        md.AppendLine(CultureInfo.InvariantCulture, $"| **all** | **{total}** | {r.Stats.Total(s => s is >= 200 and < 300)} | {r.Stats.Total(s => s is >= 400 and < 500)} | **{r.ServerErrors}** | **{r.Unanswered}** | {r.Stats.Total(_ => true) / Math.Max(1, r.LoadElapsed.TotalSeconds):F1} req/s | | | | |");
        md.AppendLine();
        md.AppendLine("The only 4xx expected is an occasional `409` to an order placement: stock is reserved and sold, so a sku can run short of what an order asks (the placement is refused, nothing is held); polls use ids of placed orders, only finished reports are downloaded, and a declined payment makes a `rejected` order, not an error answer.");
        md.AppendLine();

        md.AppendLine("## Orders: nothing lost");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| orders placed (`202`, warm-up included) | {r.OrdersPlaced} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| finished (final status) | {r.OrdersFinished} |");
        foreach (var (status, count) in r.OrdersByStatus.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| - {status} | {count} |");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| unfinished after the drain | **{r.OrdersUnfinished}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| lost (accepted, but not in the database) | **{r.OrdersLost}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| time from the end of the load until every order was final | {r.DrainTime.TotalSeconds:F1} s (bound {r.Options.Drain.TotalMinutes:0} min) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| client retries (same key re-sent) / answered with another order | {r.Replays} / **{r.ReplayMismatches}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| payments stored by the simulator / orders charged more than once | {r.Payments.Records} / **{r.Payments.DoubleCharged}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| confirmed orders captured exactly once / not (no capture, or no payment) | {r.Payments.ConfirmedCapturedOnce} / **{r.Payments.ConfirmedNotCapturedOnce}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| orders captured more than once | **{r.Payments.CapturedTwice}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| finished orders with an open authorization (payment still `authorized`) | **{r.Payments.OpenAuthorizations}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| rejected or failed orders with a capture / rejected without a declined payment | **{r.Payments.CapturedButNotConfirmed}** / **{r.Payments.RejectedNotDeclined}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| voided payments | {r.Payments.Voids} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| stock reservations / oversold units / finished orders still holding their reservation | {r.Stock.Reservations} / **{r.Stock.OversoldUnits}** / **{r.Stock.OpenReservations}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| confirmed orders whose stock was not committed | **{r.Stock.ConfirmedNotCommitted}** |");
        md.AppendLine();

        md.AppendLine("## Reports: nothing lost");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| reports requested (`202`) | {r.Reports.Requested} |");
        foreach (var (status, count) in r.Reports.ByStatus.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| - {status} | {count} |");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| unfinished after the drain | **{r.Reports.Unfinished}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| lost (accepted, but not in the database) | **{r.Reports.Lost}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| downloads of finished reports / not `200` | {r.Reports.ContentFetches} / {r.Reports.ContentFailures} |");
        md.AppendLine();

        md.AppendLine("## Memory and PostgreSQL pool");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| worker RSS, first-minute average | {rssFirst:F1} MiB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| worker RSS, last-minute average | {rssLast:F1} MiB ({(rssLast - rssFirst) / rssFirst * 100:+0.0;-0.0}%) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| worker RSS, min / max of all samples | {r.Samples.Min(s => s.WorkerRssMiB):F1} / {r.Samples.Max(s => s.WorkerRssMiB):F1} MiB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| worker restarts | {r.WorkerRestarts} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| app connections to PostgreSQL (pg_stat_activity), max sampled | {r.Samples.Max(s => s.AppConnections)} (pool limit 100, Npgsql default) |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| pool exhaustion / `53300` errors in the host log | **{r.PoolErrors}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| Npgsql timeout lines in the host log | {r.NpgsqlTimeouts} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| \"too many clients\" in the PostgreSQL log | **{r.TooManyClients}** |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| `503` answers (database or dependency unavailable) | {r.ServiceUnavailable} |");
        md.AppendLine();
        if (r.LogWarnings.Count > 0)
        {
            md.AppendLine("Host log, warnings and errors by category: " + string.Join("; ", r.LogWarnings.Select(w => $"{w.Name}: {w.Count}")) + ".");
            md.AppendLine();
        }

        md.AppendLine("## Per minute");
        md.AppendLine();
        md.AppendLine("| minute | requests | 5xx | no answer | p95 ms | worker RSS MiB (last sample) | app connections |");
        md.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (minute, stats) in r.Stats.Minutes)
        {
            var sample = r.Samples.LastOrDefault(s => s.At < TimeSpan.FromMinutes(minute + 1));
            md.AppendLine(CultureInfo.InvariantCulture, $"| {minute + 1} | {stats.Requests} | {stats.ServerErrors} | {stats.Unanswered} | {stats.P95:F1} | {sample?.WorkerRssMiB:F1} | {sample?.AppConnections} |");
        }

        md.AppendLine();
        md.AppendLine("Worker RSS is VmRSS of the worker process (`/proc/<pid>/status`, pid from `FunctionsHost.WorkerProcessId`), sampled every 10 s.");
        return md.ToString();
    }

    public static string Summary(SoakResult r)
    {
        var (rssFirst, rssLast) = r.Rss;
        return string.Join(
            Environment.NewLine,
            $"soak {(r.Passed ? "PASSED" : "FAILED")}: {Verdict(r)}",
            $"  requests {r.Stats.Total(_ => true)} in {r.LoadElapsed.TotalMinutes:F1} min ({r.Stats.Total(_ => true) / Math.Max(1, r.LoadElapsed.TotalSeconds):F1}/s): "
                + string.Join(", ", r.Stats.Endpoints.Select(e => $"{e} {r.Stats.Count(e, _ => true)} (p95 {r.Stats.Percentile(e, 95):F0} ms)")),
            $"  5xx {r.ServerErrors}, no answer {r.Unanswered}, 503 {r.ServiceUnavailable}",
            $"  orders placed {r.OrdersPlaced}, finished {r.OrdersFinished} ({string.Join(", ", r.OrdersByStatus.Select(s => $"{s.Key} {s.Value}"))}), unfinished {r.OrdersUnfinished}, lost {r.OrdersLost}, charged twice {r.Payments.DoubleCharged}; drained in {r.DrainTime.TotalSeconds:F0} s",
            $"  payments {r.Payments.Records}: confirmed captured once {r.Payments.ConfirmedCapturedOnce}, not {r.Payments.ConfirmedNotCapturedOnce}; captured twice {r.Payments.CapturedTwice}; open authorizations {r.Payments.OpenAuthorizations}; rejected/failed captured {r.Payments.CapturedButNotConfirmed}; voids {r.Payments.Voids}",
            $"  stock: reservations {r.Stock.Reservations}, oversold units {r.Stock.OversoldUnits}, open reservations {r.Stock.OpenReservations}, confirmed not committed {r.Stock.ConfirmedNotCommitted}",
            $"  reports requested {r.Reports.Requested} ({string.Join(", ", r.Reports.ByStatus.Select(s => $"{s.Key} {s.Value}"))}), unfinished {r.Reports.Unfinished}, lost {r.Reports.Lost}; downloads {r.Reports.ContentFetches}, not 200: {r.Reports.ContentFailures}",
            $"  worker RSS first minute {rssFirst:F1} MiB, last minute {rssLast:F1} MiB; restarts {r.WorkerRestarts}",
            $"  PostgreSQL: max app connections {r.Samples.Max(s => s.AppConnections)}, pool/53300 errors {r.PoolErrors}, too many clients {r.TooManyClients}");
    }

    private static string Verdict(SoakResult r) =>
        $"{r.Stats.Total(_ => true)} requests, {r.ServerErrors} 5xx, {r.Unanswered} unanswered; {r.OrdersPlaced} orders placed, {r.OrdersFinished} finished, {r.OrdersLost} lost, {r.Payments.DoubleCharged} charged twice, {r.Payments.CapturedTwice} captured twice, {r.Payments.OpenAuthorizations} open authorizations, {r.Stock.OversoldUnits} oversold units, {r.Stock.OpenReservations} open reservations; {r.Reports.Requested} reports requested, {r.Reports.Lost} lost";

    /// <summary>
    /// A results file's title, the command that made it followed by <paramref name="verdict"/>, and the first rows of
    /// its table of facts (date, machine, runtime); the caller adds its own rows.
    /// </summary>
    internal static void AppendHeading(StringBuilder md, string title, string command, string verdict, DateTimeOffset started, DateTimeOffset finished)
    {
        md.AppendLine(CultureInfo.InvariantCulture, $"# {title}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Generated by `{command}` (tests/Performance/Soak/run.sh; see [the reliability README](../../../Storefront.Tests/Reliability/README.md)){verdict}");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("| --- | --- |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| date (UTC) | {started:yyyy-MM-dd HH:mm:ss} to {finished:HH:mm:ss} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| machine | {Machine()} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| runtime | {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription} |");
    }

    internal static string StatusName(int status) => status switch
    {
        Stats.Timeout => "timeout",
        Stats.ConnectionError => "connection error",
        _ => status.ToString(CultureInfo.InvariantCulture),
    };

    private static string Machine()
    {
        var cpu = ReadField("/proc/cpuinfo", "model name") ?? "unknown CPU";
        var memory = ReadField("/proc/meminfo", "MemTotal") is { } total && double.TryParse(total.Split(' ')[0], CultureInfo.InvariantCulture, out var kib)
            ? $"{kib / 1024 / 1024:F1} GiB RAM"
            : "unknown RAM";
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
            : null;
        var load = File.Exists("/proc/loadavg") ? string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
        return $"{Environment.ProcessorCount} cores ({cpu}), {memory}, {os ?? "Linux"}; load average 1/5/15 min at the end: {load}";
    }

    private static string? ReadField(string file, string name)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        return File.ReadLines(file)
            .Where(l => l.StartsWith(name, StringComparison.Ordinal))
            .Select(l => l.Split(':', 2)[1].Trim())
            .FirstOrDefault();
    }
}
