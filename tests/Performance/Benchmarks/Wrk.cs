using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Storefront.Benchmarks;

/// <summary>One wrk step of product reads (reads.lua): statuses, whole answers, percentiles, and the CPU wrk itself used.</summary>
public sealed record ReadStep(
    string Variant, int Connections, double Seconds, long Responses, long Whole, long RetryAfter, IReadOnlyDictionary<int, long> Statuses,
    long SocketErrors, double P50Ms, double P99Ms, double WrkCpuSeconds)
{
    public double ResponsesPerSecond => Responses / Seconds;

    public double WholePerSecond => Whole / Seconds;

    public long Count(int status) => Statuses.GetValueOrDefault(status);

    /// <summary>200s with a part missing (a dependency failed or ran out of time).</summary>
    public long Degraded => Count(200) - Whole;

    public string StatusText => string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"))
        + (SocketErrors > 0 ? $", socket errors: {SocketErrors}" : string.Empty);

    public string Summary => string.Create(
        CultureInfo.InvariantCulture,
        $"{Variant} c={Connections}: {ResponsesPerSecond:F0} answers/s, {WholePerSecond:F0} whole/s, p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms; {StatusText}");
}

/// <summary>Runs wrk (https://github.com/wg/wrk) with reads.lua and parses the line its done() prints.</summary>
public static partial class Wrk
{
    public static async Task<ReadStep> ReadsAsync(string variant, Uri baseAddress, string pathPrefix, int skus, int connections, TimeSpan duration)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "reads.lua");
        var threads = Math.Min(2, connections);
        string[] arguments =
        [
            $"-t{threads}", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--timeout", "20s", "-s", script, baseAddress.ToString().TrimEnd('/'),
            "--", pathPrefix, "?currency=EUR", skus.ToString(CultureInfo.InvariantCulture),
        ];
        // bash waits for wrk, then reads its own /proc/<pid>/stat: cutime + cstime are then wrk's CPU time.
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("wrk \"$@\"; read -r s < /proc/$$/stat; echo \"SELFSTAT $s\"");
        start.ArgumentList.Add("wrk");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start wrk");
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var result = ResultPattern().Match(output);
        if (!result.Success)
        {
            throw new InvalidOperationException($"wrk printed no RESULT line: {output} {await errors}");
        }

        var fields = result.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split('=', 2))
            .ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
        double Number(string key) => double.Parse(fields[key], CultureInfo.InvariantCulture);
        var statuses = fields["statuses"].Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => s.Split('='))
            .ToDictionary(s => int.Parse(s[0], CultureInfo.InvariantCulture), s => long.Parse(s[1], CultureInfo.InvariantCulture));
        var wrkCpu = SelfStatPattern().Match(output) is { Success: true } stat ? ProcStat.ChildTicks(stat.Groups[1].Value) / ProcStat.TicksPerSecond : 0;
        return new ReadStep(
            variant, connections, Number("seconds"), (long)Number("responses"), (long)Number("whole"), (long)Number("retry_after"), statuses,
            (long)(Number("errors_connect") + Number("errors_read") + Number("errors_timeout")), Number("p50_ms"), Number("p99_ms"), wrkCpu);
    }

    [GeneratedRegex(@"RESULT (.*)")]
    private static partial Regex ResultPattern();

    [GeneratedRegex(@"SELFSTAT (.*)")]
    private static partial Regex SelfStatPattern();
}
