using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.DevStack;
using Storefront.FunctionsHost;
using Storefront.ServiceSimulator;

namespace Storefront.Tests;

/// <summary>
/// The compiled function app under the local host, against a private PostgreSQL and Azurite (the dev stack's, on free
/// ports, state in .local/test/Storefront.Tests) and the service simulator (in-process, on a free port), shared by
/// every test class.
/// </summary>
public sealed class StorefrontStack : IAsyncLifetime
{
    /// <summary>Breaker settings short enough for a test to open a circuit and see it close again.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(3);

    /// <summary>How long queued work retries transient failures here; the outage tests stay well inside it.</summary>
    public static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(60);

    /// <summary>How long after a release inventory did not confirm the sweep tries it again here (production: 30 s).</summary>
    public static readonly TimeSpan ReleaseRetryDelay = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan StartBound = TimeSpan.FromMinutes(3);

    private DevStack.DevStack _stack = null!;
    private InProcessSimulator _simulator = null!;
    private ILoggerFactory _logs = null!;

    /// <summary>The simulator's admin API (settings, call log, payments and shipments).</summary>
    public HttpClient Simulator { get; private set; } = null!;

    public FunctionsHost.FunctionsHost Host { get; private set; } = null!;

    /// <summary>The host's log records (the worker's included) at Information and above.</summary>
    public HostLog HostLog { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public string PostgresConnectionString => _stack.PostgresConnectionString;

    public string StorageConnectionString => _stack.StorageConnectionString;

    /// <summary>The settings that point an app at this stack's PostgreSQL, Azurite and simulator; callers add their own.</summary>
    public Dictionary<string, string> StackSettings() => _stack.AppSettings(_simulator.Address);

    public static string AppDirectory =>
        Path.GetFullPath(typeof(StorefrontStack).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AppDirectory").Value!);

    public async Task InitializeAsync()
    {
        using var bound = new CancellationTokenSource(StartBound);
        _stack = await DevStack.DevStack.StartAsync(DevStackOptions.ForTests("Storefront.Tests"), null, bound.Token);
        _logs = LoggerFactory.Create(logging => logging
            .AddProvider(new FileLoggerProvider(Path.Combine(_stack.Options.LogDirectory, "storefront-host.log")))
            .AddProvider(HostLog));
        Database = NpgsqlDataSource.Create(PostgresConnectionString);
        _simulator = await InProcessSimulator.StartAsync([], bound.Token);
        Simulator = new HttpClient { BaseAddress = _simulator.Address, Timeout = TimeSpan.FromSeconds(30) };

        var settings = StackSettings();
        // A quick sweep, short leases and backoffs, quick release retries, and a retry budget shorter than production's 15 minutes:
        // recovery from outages and crashes, and giving up once the budget is spent, show within a test's patience.
        settings["Recovery__SweepSchedule"] = "*/2 * * * * *";
        settings["Recovery__OutboxGracePeriod"] = "00:00:01";
        settings["Recovery__Lease"] = "00:00:06";
        settings["Recovery__StrandedAfter"] = "00:00:05";
        settings["Recovery__MaxBackoff"] = "00:00:02";
        settings["Recovery__RetryBudget"] = RetryBudget.ToString();
        settings["Orders__ReleaseRetryDelay"] = ReleaseRetryDelay.ToString();
        // A report waiting for its turn gives its message back within a test's patience.
        settings["Reports__MaxWaitForTurn"] = "00:00:20";
        // No test changes a product: a long cache period keeps "read recently" true in the outage test however slowly the
        // database stops on a busy machine.
        settings["Catalog__ProductCacheDuration"] = "00:10:00";
        foreach (var service in DevStack.DevStack.ServiceNames)
        {
            settings[$"Services__{service}__BreakerMinimumThroughput"] = "5";
            settings[$"Services__{service}__BreakerBreakDuration"] = BreakDuration.ToString();
        }

        // Everything (Postgres, Azurite, host, worker, simulator, tests) shares two cores here, so the 250 ms
        // production timeouts of the request-path reads would trip on scheduling delays alone; the request
        // budget (800 ms) still bounds every product read.
        foreach (var service in new[] { "Inventory", "Reviews", "Fx" })
        {
            settings[$"Services__{service}__Timeout"] = "00:00:01";
            // An attempt ends before the 800 ms budget cuts the call, so a slow service reaches its breaker as timeouts.
            settings[$"Services__{service}__AttemptTimeout"] = "00:00:00.600";
        }

        Host = await FunctionsHost.FunctionsHost.StartAsync(
            new FunctionsHostOptions
            {
                AppDirectory = AppDirectory,
                HttpPort = 0,
                UseLocalSettingsFile = false,
                Settings = settings,
                ShutdownGracePeriod = TimeSpan.FromSeconds(3),
            },
            _logs,
            bound.Token);
        Client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await WarmUpAsync();
    }

    /// <summary>
    /// Waits until a read in <paramref name="currency"/> is whole: the worker has FX rates cached (a test before may
    /// have left a worker with none, and a busy machine can then run a read's first FX call past its budget) and its
    /// dependencies answer. For tests about what a whole answer holds, not about how a worker fills its cache.
    /// </summary>
    public async Task WaitUntilWholeInAsync(string currency) =>
        Assert.True(
            await Eventually.TrueAsync(() => ReadsWholeAsync($"api/products/SKU-00001?currency={currency}"), TimeSpan.FromSeconds(90)),
            $"no whole answer in {currency}");

    /// <summary>
    /// A new worker's first calls pay for JIT compilation and new connections, which can exceed the
    /// dependency timeouts; tests about behaviour start from a warm worker, as a served app does.
    /// The read is in USD, which needs no FX rates: the FX cache is left as the worker's start left it.
    /// </summary>
    public async Task WarmUpAsync() => await Eventually.TrueAsync(() => ReadsWholeAsync("api/products/SKU-00001"), TimeSpan.FromSeconds(20));

    /// <summary>Whether a product read answers 200 with nothing degraded.</summary>
    private async Task<bool> ReadsWholeAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        return response.IsSuccessStatusCode && !(await response.Content.ReadAsStringAsync()).Contains("\"degraded\":[\"", StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        // A failed start may have got only part of the way.
        Client?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        Simulator?.Dispose();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        _logs?.Dispose();
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }
    }

    /// <summary>Restores the simulator's start-up settings and empties its call log and stores.</summary>
    public async Task ResetSimulatorAsync() => (await Simulator.PostAsync("admin/reset", null)).EnsureSuccessStatusCode();

    public async Task ConfigureServiceAsync(string service, object settings) =>
        (await Simulator.PutAsJsonAsync($"admin/services/{service}", settings)).EnsureSuccessStatusCode();

    public async Task<List<CallLogEntry>> CallsAsync(string service) =>
        (await Simulator.GetFromJsonAsync<List<CallLogEntry>>($"admin/calls?service={service}"))!;

    /// <summary>
    /// Kills the worker so that the host starts a fresh one: a cold start, with empty in-process caches
    /// and closed circuits. Returns once the new worker answers.
    /// </summary>
    public async Task RestartWorkerAsync()
    {
        var restarts = Host.WorkerRestarts;
        Process.GetProcessById(Host.WorkerProcessId!.Value).Kill();
        if (!await Eventually.TrueAsync(() => Task.FromResult(Host.WorkerRestarts > restarts), TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("The host did not restart the worker.");
        }

        await WarmUpAsync();
    }

    /// <summary>Fast shutdown of the test PostgreSQL (its data stays).</summary>
    public async Task StopPostgresAsync()
    {
        await _stack.Postgres!.StopAsync();
        // The tests' own pool would otherwise hand out connections the restart has closed.
        Database.Clear();
    }

    public async Task StartPostgresAsync()
    {
        using var bound = new CancellationTokenSource(StartBound);
        await _stack.Postgres!.StartAsync(bound.Token);
        Database.Clear();
    }

    /// <summary>Stops the test Azurite (its data survives a stop).</summary>
    public Task StopAzuriteAsync() => _stack.Azurite!.StopAsync();

    public async Task StartAzuriteAsync()
    {
        using var bound = new CancellationTokenSource(StartBound);
        await _stack.Azurite!.StartAsync(bound.Token);
    }
}

[CollectionDefinition(Name)]
public sealed class StorefrontCollection : ICollectionFixture<StorefrontStack>
{
    public const string Name = "storefront";
}
