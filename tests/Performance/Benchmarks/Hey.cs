using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Storefront.Benchmarks;

/// <summary>One hey run: its summary (exact percentiles from all latencies) and the CPU hey itself used.</summary>
public sealed record LoadResult(
    string Name, int Connections, double Seconds, long Responses, long Ok, long Errors, double RequestsPerSecond,
    double P50Ms, double P99Ms, double HeyCpuSeconds)
{
    public string Summary =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} c={Connections}: {RequestsPerSecond:F1} req/s, p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms, {Errors} errors");
}

/// <summary>Runs hey (https://github.com/rakyll/hey) and parses its text summary.</summary>
public static partial class Hey
{
    public static async Task<LoadResult> RunAsync(string name, string url, int connections, TimeSpan duration, IReadOnlyDictionary<string, string>? headers = null)
    {
        var arguments = new List<string> { "-z", $"{(int)duration.TotalSeconds}s", "-c", connections.ToString(CultureInfo.InvariantCulture), "-t", "20", "-disable-compression" };
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            arguments.Add("-H");
            arguments.Add($"{key}: {value}");
        }

        arguments.Add(url);
        // bash waits for hey, then reads its own /proc/<pid>/stat: cutime + cstime are then hey's CPU time.
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("hey \"$@\"; read -r s < /proc/$$/stat; echo \"SELFSTAT $s\"");
        start.ArgumentList.Add("hey");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start hey");
        var errorTask = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        _ = await errorTask;
        return Parse(name, connections, output);
    }

    internal static LoadResult Parse(string name, int connections, string output)
    {
        double Seconds(Regex pattern) => pattern.Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;

        var total = Seconds(TotalPattern());
        var rps = Seconds(RpsPattern());
        var p50 = Percentile(output, "50") * 1000;
        var p99 = Percentile(output, "99") * 1000;
        long ok = 0, responses = 0;
        foreach (Match m in StatusPattern().Matches(output))
        {
            var count = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            responses += count;
            if (m.Groups[1].Value.StartsWith('2'))
            {
                ok += count;
            }
        }

        long networkErrors = 0;
        var errorSection = output.IndexOf("Error distribution:", StringComparison.Ordinal);
        if (errorSection >= 0)
        {
            foreach (Match m in ErrorPattern().Matches(output[errorSection..]))
            {
                networkErrors += long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        double heyCpu = 0;
        if (SelfStatPattern().Match(output) is { Success: true } stat)
        {
            heyCpu = ProcStat.ChildTicks(stat.Groups[1].Value) / ProcStat.TicksPerSecond;
        }

        // Throughput counts successful (2xx) responses over the step's wall time; hey's own Requests/sec counts errors too.
        var okPerSecond = total > 0 ? ok / total : rps;
        return new LoadResult(name, connections, total, responses, ok, responses - ok + networkErrors, okPerSecond, p50, p99, heyCpu);
    }

    private static double Percentile(string output, string percent) =>
        Regex.Match(output, $@"^\s*{percent}%+ in ([0-9.]+) secs", RegexOptions.Multiline) is { Success: true } m
            ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : double.NaN;

    [GeneratedRegex(@"Total:\s+([0-9.]+) secs")]
    private static partial Regex TotalPattern();

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RpsPattern();

    [GeneratedRegex(@"^\s*\[(\d{3})\]\s+(\d+) responses", RegexOptions.Multiline)]
    private static partial Regex StatusPattern();

    [GeneratedRegex(@"^\s*\[(\d+)\]\s+\S", RegexOptions.Multiline)]
    private static partial Regex ErrorPattern();

    [GeneratedRegex(@"SELFSTAT (.*)")]
    private static partial Regex SelfStatPattern();
}
