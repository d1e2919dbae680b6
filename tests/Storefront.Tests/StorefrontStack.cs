using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.FunctionsHost;
using Storefront.ServiceSimulator;

namespace Storefront.Tests;

/// <summary>
/// The compiled function app under the local host, against the test Postgres and Azurite that the
/// test command provisioned (their connections come from the environment) and the service simulator
/// (in-process, on a free port), shared by every test class.
/// </summary>
public sealed class StorefrontStack : IAsyncLifetime
{
    /// <summary>Breaker settings short enough for a test to open a circuit and see it close again.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(3);

    /// <summary>How long queued work retries transient failures here; the outage tests stay well inside it.</summary>
    public static readonly TimeSpan RetryBudget = TimeSpan.FromSeconds(60);

    private ILoggerFactory? _logs;
    private WebApplication _simulatorApp = null!;

    /// <summary>The simulator's admin API (settings, call log, payments and shipments).</summary>
    public HttpClient Simulator { get; private set; } = null!;

    public FunctionsHost.FunctionsHost Host { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public static string PostgresConnectionString => Required("ConnectionStrings__Postgres");

    public static string StorageConnectionString =>
        Environment.GetEnvironmentVariable("AzureWebJobsStorage") is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    public static string AppDirectory =>
        Environment.GetEnvironmentVariable("STOREFRONT_APP_DIR") is { Length: > 0 } value
            ? value
            : Path.GetFullPath(typeof(StorefrontStack).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AppDirectory").Value!);

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("STOREFRONT_TEST_LOGS") is { Length: > 0 } logFolder)
        {
            _logs = LoggerFactory.Create(logging => logging.AddProvider(new FileLoggerProvider(Path.Combine(logFolder, "storefront-host.log"))));
        }

        Database = NpgsqlDataSource.Create(PostgresConnectionString);
        _simulatorApp = SimulatorApp.Create(["--urls", "http://127.0.0.1:0"]);
        await _simulatorApp.StartAsync();
        var simulatorAddress = new Uri(_simulatorApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        Simulator = new HttpClient { BaseAddress = simulatorAddress, Timeout = TimeSpan.FromSeconds(30) };

        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = PostgresConnectionString,
            ["AzureWebJobsStorage"] = StorageConnectionString,
            // A quick sweep, short leases and backoffs, and a retry budget shorter than production's 15 minutes:
            // recovery from outages and crashes, and giving up once the budget is spent, show within a test's patience.
            ["Recovery__SweepSchedule"] = "*/2 * * * * *",
            ["Recovery__OutboxGracePeriod"] = "00:00:01",
            ["Recovery__Lease"] = "00:00:06",
            ["Recovery__StrandedAfter"] = "00:00:05",
            ["Recovery__MaxBackoff"] = "00:00:02",
            ["Recovery__RetryBudget"] = RetryBudget.ToString(),
        };
        foreach (var service in new[] { "Inventory", "Reviews", "Fx", "Payments", "Shipping", "Notifications" })
        {
            settings[$"Services__{service}__BaseUrl"] = simulatorAddress.ToString();
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
            _logs);
        Client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await WarmUpAsync();
    }

    /// <summary>
    /// A new worker's first calls pay for JIT compilation and new connections, which can exceed the
    /// 250 ms dependency timeouts; tests about behaviour start from a warm worker, as a served app does.
    /// The read is in USD so that the FX cache stays cold for the tests that need it so.
    /// </summary>
    public async Task WarmUpAsync()
    {
        await EventuallyAsync(
            async () =>
            {
                using var response = await Client.GetAsync("api/products/SKU-00001");
                return response.IsSuccessStatusCode && !(await response.Content.ReadAsStringAsync()).Contains("\"degraded\":[\"", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(20));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        Simulator.Dispose();
        await _simulatorApp.DisposeAsync();
        await Database.DisposeAsync();
        _logs?.Dispose();
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
        if (!await EventuallyAsync(() => Task.FromResult(Host.WorkerRestarts > restarts), TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException("The host did not restart the worker.");
        }

        await WarmUpAsync();
    }

    /// <summary>Runs the test command's control script for the test Postgres cluster (stop, start, status).</summary>
    public async Task PostgresAsync(string command)
    {
        await ControlAsync("STOREFRONT_POSTGRES_CTL", command);
        // The tests' own pool would otherwise hand out connections the restart has closed.
        Database.Clear();
    }

    /// <summary>The same for the test Azurite (its data survives a stop).</summary>
    public static Task AzuriteAsync(string command) => ControlAsync("STOREFRONT_AZURITE_CTL", command);

    private static async Task ControlAsync(string variable, string command)
    {
        var commandLine = Required(variable);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{commandLine} {command}");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{commandLine} {command}' exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests with ./infra/local/test.sh, which provisions Postgres and Azurite.");

    /// <summary>Polls for a condition with a bound; returns whether it became true.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return await condition();
    }
}

[CollectionDefinition(Name)]
public sealed class StorefrontCollection : ICollectionFixture<StorefrontStack>
{
    public const string Name = "storefront";
}
