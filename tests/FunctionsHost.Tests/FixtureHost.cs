using System.Reflection;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using Storefront.DevStack;

namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// The fixture function app running under the local host against this assembly's Azurite (the dev stack's, on free
/// ports, state in .local/test/FunctionsHost.Tests), with queues and a probe folder of its own so that test classes
/// never see each other's messages.
/// </summary>
public sealed class FixtureHost : IAsyncLifetime
{
    private const string StackName = "FunctionsHost.Tests";

    private static readonly AzuriteOptions StorageOptions = new()
    {
        StateDirectory = Path.Combine(RepoPaths.TestState, StackName),
        BlobPort = Ports.Free(),
        QueuePort = Ports.Free(),
        TablePort = Ports.Free(),
        LogFile = Path.Combine(RepoPaths.TestState, "logs", StackName, "azurite.log"),
    };

    // One emulator for every fixture of the assembly (they run in parallel); xunit 2 has no assembly fixture to stop
    // it, so the dev stack stops it when the test process exits.
    private static readonly Lazy<Task<AzuriteServer>> Storage = new(() => AzuriteServer.StartAsync(StorageOptions, _ => { }, CancellationToken.None));

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private ILoggerFactory? _logs;
    private string? _appCopy;

    /// <summary>
    /// A host.json to run the fixture app with instead of its own: the app is then run from a folder of
    /// links to its build output with this host.json beside them.
    /// </summary>
    public string? HostJson { get; init; }

    /// <summary>Overrides the host's grace period after a functionTimeout; null keeps the host's default.</summary>
    public TimeSpan? FunctionTimeoutGracePeriod { get; init; }

    /// <summary>How long a stopping host lets running work go on (and cancelled work answer): short, so tests end soon.</summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>App settings added to (or replacing) the fixture's own.</summary>
    public IReadOnlyDictionary<string, string> ExtraSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>When the fixture's timer that runs until cancelled fires; null (the default) disables it.</summary>
    public string? HoldingSchedule { get; init; }

    public FunctionsHost Host { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>What the host and its worker logged, for a test that waits on a decision only the log shows.</summary>
    public HostLog Log { get; } = new();

    public string ProbeDirectory { get; } = Directory.CreateTempSubdirectory("fixture-probe-").FullName;

    public string TextQueue => $"text-{_suffix}";

    public string ModelQueue => $"model-{_suffix}";

    public string FailingQueue => $"failing-{_suffix}";

    public string HoldingQueue => $"holding-{_suffix}";

    public string HostId => $"fixture-{_suffix}";

    /// <summary>Valid once <see cref="StartStorageAsync"/> has completed (every fixture's start awaits it).</summary>
    public static string StorageConnectionString =>
        AzuriteServer.ConnectionStringFor(StorageOptions.BlobPort, StorageOptions.QueuePort, StorageOptions.TablePort);

    public static string AppDirectory => Metadata("FixtureAppDirectory");

    public static string CliPath => Metadata("HostCliPath");

    public IReadOnlyDictionary<string, string> Settings
    {
        get
        {
            var settings = OwnSettings();
            foreach (var (name, value) in ExtraSettings)
            {
                settings[name] = value;
            }

            return settings;
        }
    }

    private Dictionary<string, string> OwnSettings() => new()
    {
        ["AzureWebJobsStorage"] = StorageConnectionString,
        ["FIXTURE_PROBE_DIR"] = ProbeDirectory,
        ["FIXTURE_TEXT_QUEUE"] = TextQueue,
        ["FIXTURE_MODEL_QUEUE"] = ModelQueue,
        ["FIXTURE_FAILING_QUEUE"] = FailingQueue,
        ["FIXTURE_FAILING_POISON_QUEUE"] = FailingQueue + "-poison",
        ["FIXTURE_HOLDING_QUEUE"] = HoldingQueue,
        ["FIXTURE_HOLDING_SCHEDULE"] = HoldingSchedule ?? "0 0 4 * * *",
        ["AzureWebJobs.TimerHoldsUntilCancelled.Disabled"] = HoldingSchedule is null ? "true" : "false",
        ["FIXTURE_TIMER_SCHEDULE"] = "*/1 * * * * *",
        ["FIXTURE_DAILY_SCHEDULE"] = "0 0 3 * * *",
        // The schedule monitor keeps timer status per host id: each fixture has its own.
        ["AzureFunctionsWebHost__hostid"] = HostId,
    };

    /// <summary>Starts the assembly's Azurite on first use.</summary>
    public static Task StartStorageAsync() => Storage.Value;

    public async Task InitializeAsync()
    {
        await StartStorageAsync();
        var service = new QueueServiceClient(StorageConnectionString);
        foreach (var queue in new[] { TextQueue, ModelQueue, FailingQueue, HoldingQueue })
        {
            await service.GetQueueClient(queue).CreateIfNotExistsAsync();
        }

        // A failure in CI comes with the host's and worker's logs (CI keeps .local/test/logs).
        _logs = LoggerFactory.Create(logging => logging
            .AddProvider(new FileLoggerProvider(Path.Combine(Path.GetDirectoryName(StorageOptions.LogFile)!, $"fixture-host-{_suffix}.log")))
            .AddProvider(Log));

        Host = await FunctionsHost.StartAsync(Options(), _logs);
        Client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(100) };
    }

    /// <summary>The options this fixture starts its host with (tests that expect a refusal start it themselves).</summary>
    public FunctionsHostOptions Options()
    {
        if (HostJson is not null && _appCopy is null)
        {
            _appCopy = Directory.CreateTempSubdirectory("fixture-app-").FullName;
            foreach (var entry in Directory.EnumerateFileSystemEntries(AppDirectory))
            {
                var name = Path.GetFileName(entry);
                if (name != "host.json")
                {
                    File.CreateSymbolicLink(Path.Combine(_appCopy, name), entry);
                }
            }

            File.WriteAllText(Path.Combine(_appCopy, "host.json"), HostJson);
        }

        var options = new FunctionsHostOptions
        {
            AppDirectory = _appCopy ?? AppDirectory,
            HttpPort = 0,
            UseLocalSettingsFile = false,
            Settings = Settings,
            ShutdownGracePeriod = ShutdownGracePeriod,
        };
        return FunctionTimeoutGracePeriod is { } grace ? options with { FunctionTimeoutGracePeriod = grace } : options;
    }

    public async Task DisposeAsync()
    {
        // A test that expected the host to refuse to start never had a client or a host.
        Client?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        _logs?.Dispose();
        Directory.Delete(ProbeDirectory, recursive: true);
        if (_appCopy is not null)
        {
            Directory.Delete(_appCopy, recursive: true);
        }
    }

    /// <summary>A queue client that encodes like the app's senders (host.json: base64).</summary>
    public QueueClient Queue(string name, bool base64 = true) => new(
        StorageConnectionString,
        name,
        new QueueClientOptions { MessageEncoding = base64 ? QueueMessageEncoding.Base64 : QueueMessageEncoding.None });

    public string[] Probes(string prefix) =>
        Directory.GetFiles(ProbeDirectory, prefix + ".*").Select(File.ReadAllText).ToArray();

    private static string Metadata(string key) => Path.GetFullPath(
        typeof(FixtureHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!);
}
