using System.Globalization;
using System.Reflection;

namespace Storefront.Soak;

/// <summary>What one run does (the soak, or with --outages the scripted outage scenarios); every value has a default and a command-line flag.</summary>
public sealed record SoakOptions
{
    public const string Usage =
        "usage: Storefront.Soak [--outages] [--minutes 10] [--workers 8] [--think-ms 20] [--drain-minutes 5] [--output DIR] [--app DIR] [--host-log FILE] [--postgres-log FILE] [--command TEXT]";

    /// <summary>Run the scripted outage scenarios (results/outages.md) instead of the soak.</summary>
    public bool Outages { get; init; }

    /// <summary>Length of the measured load phase.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Concurrent callers (each waits for its answer before the next request): the concurrency bound.</summary>
    public int Workers { get; init; } = 8;

    /// <summary>Pause of a caller between two requests.</summary>
    public TimeSpan Think { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>After the load: the most to wait for every placed order to reach a final status.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a single request may take before the caller counts it as a timeout.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public string Output { get; init; } = Path.Combine(Environment.CurrentDirectory, "tests/Performance/Soak/results");

    public string AppDirectory { get; init; } =
        typeof(SoakOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AppDirectory").Value!;

    /// <summary>The host's and worker's log (Warning and above), scanned for pool errors afterwards.</summary>
    public string HostLog { get; init; } = Path.Combine(Path.GetTempPath(), "soak-host.log");

    /// <summary>The PostgreSQL server log, scanned for "too many clients" (53300) afterwards; optional.</summary>
    public string? PostgresLog { get; init; }

    /// <summary>The command line to print in the results.</summary>
    public string Command { get; init; } = "./tests/Performance/Soak/run.sh";

    public static SoakOptions Parse(string[] args)
    {
        var options = new SoakOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--outages")
            {
                options = options with { Outages = true };
                continue;
            }

            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            var value = args[++i];
            options = name switch
            {
                "--minutes" => options with { Duration = TimeSpan.FromMinutes(Positive(name, value)) },
                "--workers" => options with { Workers = (int)Positive(name, value) },
                "--think-ms" => options with { Think = TimeSpan.FromMilliseconds(NonNegative(name, value)) },
                "--drain-minutes" => options with { Drain = TimeSpan.FromMinutes(Positive(name, value)) },
                "--output" => options with { Output = Path.GetFullPath(value) },
                "--app" => options with { AppDirectory = Path.GetFullPath(value) },
                "--host-log" => options with { HostLog = Path.GetFullPath(value) },
                "--postgres-log" => options with { PostgresLog = value.Length == 0 ? null : Path.GetFullPath(value) },
                "--command" => options with { Command = value },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        return options;
    }

    private static double Positive(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number > 0 && number <= 24 * 60
            ? number
            : throw new ArgumentException($"{name} must be a positive number, not '{value}'");

    private static double NonNegative(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0 && number <= 60_000
            ? number
            : throw new ArgumentException($"{name} must be 0 or more, not '{value}'");
}
