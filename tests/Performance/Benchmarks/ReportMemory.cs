using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Storefront.Migrations;

namespace Storefront.Benchmarks;

public sealed record ReportRun(string Kind, int HistoryLines, long Rows, long Bytes, double Seconds, double BaselineRssMiB, double PeakRssMiB);

/// <summary>
/// Report generation over 1,000 and 1,000,000 order lines: the worker's peak memory while each runs. The
/// aggregation happens in Postgres and its rows stream into the blob, so the peak should not grow with the input.
/// </summary>
public static class ReportMemory
{
    private static readonly (int Lines, HistoryOptions History)[] Histories =
    [
        (1_000, new HistoryOptions(1_000, new DateOnly(2023, 1, 1), 30, "bench-report-1k")),
        (1_000_000, new HistoryOptions(1_000_000, new DateOnly(2022, 1, 1), 365, "bench-report-1m")),
    ];

    public static async Task<List<ReportRun>> RunAsync(HttpClient http, Uri app, string postgres, string functionKey, int worker, Action<string> log)
    {
        await using (var dataSource = NpgsqlDataSource.Create(postgres))
        {
            foreach (var (lines, history) in Histories)
            {
                var clock = Stopwatch.StartNew();
                var written = await HistoryGenerator.GenerateAsync(dataSource, history, CancellationToken.None);
                log(written > 0 ? $"history: {written} lines written in {clock.Elapsed.TotalSeconds:F1} s" : $"history of {lines} lines already present");
            }
        }

        var runs = new List<ReportRun>();
        foreach (var kind in new[] { "top-products", "sales-by-day" })
        {
            foreach (var (lines, history) in Histories)
            {
                var to = history.From.AddDays(history.Days - 1);
                var request = new { kind, from = history.From.ToString("yyyy-MM-dd"), to = to.ToString("yyyy-MM-dd"), currency = "USD" };
                var baseline = ProcStat.RssMiB(worker);
                ProcStat.ResetPeakRss(worker);
                var clock = Stopwatch.StartNew();
                using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(app, "api/reports")) { Content = JsonContent.Create(request) };
                create.Headers.Add("x-functions-key", functionKey);
                using var created = await http.SendAsync(create);
                var location = new Uri(app, created.Headers.Location!.ToString().TrimStart('/'));
                JsonElement report;
                var deadline = DateTime.UtcNow.AddMinutes(5);
                while (true)
                {
                    using var poll = new HttpRequestMessage(HttpMethod.Get, location);
                    poll.Headers.Add("x-functions-key", functionKey);
                    using var response = await http.SendAsync(poll);
                    report = await response.Content.ReadFromJsonAsync<JsonElement>();
                    if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
                    {
                        break;
                    }

                    await Task.Delay(100);
                }

                var run = new ReportRun(
                    kind,
                    lines,
                    report.TryGetProperty("rows", out var rows) && rows.ValueKind == JsonValueKind.Number ? rows.GetInt64() : -1,
                    report.TryGetProperty("bytes", out var bytes) && bytes.ValueKind == JsonValueKind.Number ? bytes.GetInt64() : -1,
                    clock.Elapsed.TotalSeconds,
                    baseline,
                    ProcStat.PeakRssMiB(worker));
                runs.Add(run);
                log($"report {kind} over {lines} lines: {report.GetProperty("status").GetString()}, {run.Rows} rows, {run.Bytes} bytes in {run.Seconds:F1} s; worker RSS {run.BaselineRssMiB:F0} MiB before, peak {run.PeakRssMiB:F0} MiB");
            }
        }

        return runs;
    }
}
