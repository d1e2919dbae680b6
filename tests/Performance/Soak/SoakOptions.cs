using System.CommandLine;
using System.Globalization;
using Storefront.DevStack;

namespace Storefront.Soak;

/// <summary>What one run does (the soak, or with --outages the scripted outage scenarios) and where its stack lives; every value has a default and a flag.</summary>
public sealed record SoakOptions
{
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

    public string Output { get; init; } = Path.Combine(RepoPaths.Root, "tests/Performance/Soak/results");

    public string AppDirectory { get; init; } = RepoPaths.ApiOutput;

    /// <summary>The stack's state folder (PostgreSQL cluster, Azurite data, logs): apart from the run command's and the tests'.</summary>
    public string StateDirectory { get; init; } = "/tmp/soak-state";

    public int PostgresPort { get; init; } = 15481;

    /// <summary>Azurite's blob port; queue and table take the next two.</summary>
    public int AzuritePort { get; init; } = 10080;

    /// <summary>The command line to print in the results.</summary>
    public string Command { get; init; } = "./tests/Performance/Soak/run.sh";

    public string LogDirectory => Path.Combine(StateDirectory, "logs");

    /// <summary>The host's and worker's log (Warning and above), scanned for pool errors afterwards.</summary>
    public string HostLog => Path.Combine(LogDirectory, $"{(Outages ? "outages" : "soak")}-host.log");

    /// <summary>The PostgreSQL server log, scanned for "too many clients" (53300) afterwards.</summary>
    public string PostgresLog => Path.Combine(LogDirectory, "postgres.log");

    /// <summary>The command line: its options, each defaulting to the environment variable the docs name where there is one.</summary>
    public static RootCommand CommandLine(Func<SoakOptions, CancellationToken, Task<int>> run)
    {
        var outages = new Option<bool>("--outages") { Description = "Run the scripted outage scenarios (about 15 minutes) instead of the soak." };
        var minutes = Number("--minutes", "Length of the measured load, in minutes.", 10, 0.01, 24 * 60);
        var workers = Number("--workers", "Concurrent callers.", 8, 1, 1000);
        var think = Number("--think-ms", "Pause of a caller between two requests, in ms.", 20, 0, 60_000);
        var drain = Number("--drain-minutes", "The most to wait afterwards for every order to be final, in minutes.", 5, 0.01, 24 * 60);
        var output = new Option<string>("--output") { Description = "Results folder (SOAK_OUTPUT).", DefaultValueFactory = _ => Env("SOAK_OUTPUT") ?? new SoakOptions().Output };
        var app = new Option<string>("--app") { Description = "The function app's build output.", DefaultValueFactory = _ => RepoPaths.ApiOutput };
        var state = new Option<string>("--state") { Description = "The stack's state folder (STOREFRONT_STATE_DIR).", DefaultValueFactory = _ => Env("STOREFRONT_STATE_DIR") ?? "/tmp/soak-state" };
        var postgresPort = Port("--postgres-port", "STOREFRONT_PG_PORT", 15481);
        var azuritePort = Port("--azurite-port", "STOREFRONT_AZURITE_PORT", 10080);

        var root = new RootCommand("The soak: mixed load against the whole stack, then a check that nothing was lost (see README.md).")
        {
            outages, minutes, workers, think, drain, output, app, state, postgresPort, azuritePort,
        };
        root.SetAction((parse, cancellationToken) => run(
            new SoakOptions
            {
                Outages = parse.GetValue(outages),
                Duration = TimeSpan.FromMinutes(parse.GetValue(minutes)),
                Workers = (int)parse.GetValue(workers),
                Think = TimeSpan.FromMilliseconds(parse.GetValue(think)),
                Drain = TimeSpan.FromMinutes(parse.GetValue(drain)),
                Output = Path.GetFullPath(parse.GetValue(output)!),
                AppDirectory = Path.GetFullPath(parse.GetValue(app)!),
                StateDirectory = Path.GetFullPath(parse.GetValue(state)!),
                PostgresPort = parse.GetValue(postgresPort),
                AzuritePort = parse.GetValue(azuritePort),
                Command = string.Join(' ', ["./tests/Performance/Soak/run.sh", .. parse.Tokens.Select(token => token.Value)]),
            },
            cancellationToken));
        return root;
    }

    private static Option<double> Number(string name, string description, double fallback, double min, double max)
    {
        var option = new Option<double>(name) { Description = $"{description} Default {fallback.ToString(CultureInfo.InvariantCulture)}.", DefaultValueFactory = _ => fallback };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is var value && (value < min || value > max))
            {
                result.AddError($"{name} must be from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    private static Option<int> Port(string name, string variable, int fallback)
    {
        var option = new Option<int>(name)
        {
            Description = $"Default {fallback} ({variable}).",
            DefaultValueFactory = _ => Ports.Parse(Env(variable), variable) ?? fallback,
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 65535)
            {
                result.AddError($"{name} must be from 1 to 65535.");
            }
        });
        return option;
    }

    private static string? Env(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
}
