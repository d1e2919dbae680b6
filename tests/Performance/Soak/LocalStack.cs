using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.FunctionsHost;
using Storefront.ServiceSimulator;

namespace Storefront.Soak;

/// <summary>An order as the database has it, for the checks after a run.</summary>
public sealed record StoredOrder(Guid Id, string IdempotencyKey, string Status, string CustomerId, string? FailureReason, DateTimeOffset UpdatedAt)
{
    public bool IsFinished => Status is "confirmed" or "rejected" or "failed";
}

/// <summary>
/// The stack both modes run against: the service simulator in-process (realistic latencies), the app under the local
/// Functions host with the mode's settings, an HTTP client for each and the database; plus control of the PostgreSQL
/// and Azurite that run.sh provisioned (through the STOREFRONT_*_CTL command lines it exports) and of the worker.
/// </summary>
public sealed class LocalStack : IAsyncDisposable
{
    /// <summary>Latency of each simulated service: base and uniform jitter in ms (a healthy, realistic day).</summary>
    public static readonly (string Service, int LatencyMs, int JitterMs)[] Latencies =
    [
        ("inventory", 25, 30), ("reviews", 35, 40), ("fx", 60, 40), ("payments", 250, 150), ("shipping", 150, 100), ("notifications", 40, 30),
    ];

    private static readonly string[] ServiceSettingNames = ["Inventory", "Reviews", "Fx", "Payments", "Shipping", "Notifications"];
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromMinutes(2);

    private readonly WebApplication _simulatorApp;
    private readonly ILoggerFactory _logs;
    private bool _disposed;

    private LocalStack(WebApplication simulatorApp, Uri simulatorUri, ILoggerFactory logs, FunctionsHost.FunctionsHost host, NpgsqlDataSource database, HttpClient app)
    {
        _simulatorApp = simulatorApp;
        _logs = logs;
        SimulatorUri = simulatorUri;
        Host = host;
        Database = database;
        App = app;
        Simulator = new HttpClient { BaseAddress = simulatorUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    public FunctionsHost.FunctionsHost Host { get; }

    public Uri SimulatorUri { get; }

    /// <summary>The app, through the host (its timeout is the callers' per-request bound).</summary>
    public HttpClient App { get; }

    /// <summary>The simulator's admin API.</summary>
    public HttpClient Simulator { get; }

    public NpgsqlDataSource Database { get; }

    public string FunctionKey => Host.Settings.FunctionKey;

    /// <param name="appSettings">The mode's settings on top of the connections and the simulator's address.</param>
    /// <param name="simulatorSettings">The mode's simulator start-up settings on top of <see cref="Latencies"/>, as <c>Key=value</c>.</param>
    /// <param name="maxConnections">Connections the callers may open to the app at once.</param>
    public static async Task<LocalStack> StartAsync(
        SoakOptions options,
        IReadOnlyDictionary<string, string> appSettings,
        IEnumerable<string> simulatorSettings,
        int maxConnections,
        CancellationToken cancellationToken)
    {
        var postgres = Required("ConnectionStrings__Postgres");
        var storage = Required("AzureWebJobsStorage");

        var simulatorArgs = new List<string> { "--urls", "http://127.0.0.1:0" };
        foreach (var (service, latency, jitter) in Latencies)
        {
            simulatorArgs.Add($"--Simulator:Services:{service}:LatencyMs={latency}");
            simulatorArgs.Add($"--Simulator:Services:{service}:JitterMs={jitter}");
        }

        simulatorArgs.AddRange(simulatorSettings.Select(setting => $"--Simulator:{setting}"));
        var simulatorApp = SimulatorApp.Create([.. simulatorArgs]);
        await simulatorApp.StartAsync(cancellationToken);
        var simulatorUri = new Uri(simulatorApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

        var settings = new Dictionary<string, string>(appSettings)
        {
            ["ConnectionStrings__Postgres"] = postgres,
            ["AzureWebJobsStorage"] = storage,
        };
        foreach (var service in ServiceSettingNames)
        {
            settings[$"Services__{service}__BaseUrl"] = simulatorUri.ToString();
        }

        File.Delete(options.HostLog);
        var logs = LoggerFactory.Create(logging => logging.AddProvider(new FileLoggerProvider(options.HostLog, LogLevel.Warning)));
        var host = await FunctionsHost.FunctionsHost.StartAsync(
            new FunctionsHostOptions
            {
                AppDirectory = options.AppDirectory,
                HttpPort = 0,
                UseLocalSettingsFile = false,
                Settings = settings,
                ShutdownGracePeriod = TimeSpan.FromSeconds(5),
            },
            logs,
            cancellationToken);
        var app = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = host.BaseAddress,
            Timeout = options.RequestTimeout,
        };
        var stack = new LocalStack(simulatorApp, simulatorUri, logs, host, NpgsqlDataSource.Create(postgres), app);
        Log($"app on {host.BaseAddress} (worker pid {host.WorkerProcessId}), simulator on {simulatorUri}");
        return stack;
    }

    /// <summary>A request to the app with the function key.</summary>
    public HttpRequestMessage Keyed(HttpMethod method, string url, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("x-functions-key", FunctionKey);
        return request;
    }

    /// <summary>Changes the given fields of one simulated service's latency and faults.</summary>
    public async Task ConfigureServiceAsync(string service, ServiceSettingsUpdate update, CancellationToken cancellationToken)
    {
        using var response = await Simulator.PutAsJsonAsync($"admin/services/{service}", update, SimulatorJsonContext.Default.ServiceSettingsUpdate, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Every payment the simulator stored, with its state, captures and voids.</summary>
    public async Task<List<PaymentRecord>> PaymentsAsync(CancellationToken cancellationToken) =>
        await Simulator.GetFromJsonAsync("admin/payments", SimulatorJsonContext.Default.ListPaymentRecord, cancellationToken) ?? [];

    public async Task<List<ReservationRecord>> ReservationsAsync(CancellationToken cancellationToken) =>
        await Simulator.GetFromJsonAsync("admin/reservations", SimulatorJsonContext.Default.ListReservationRecord, cancellationToken) ?? [];

    /// <summary>The inventory levels of every sku the given reservations touched.</summary>
    public async Task<List<StockRecord>> StockAsync(IEnumerable<ReservationRecord> reservations, CancellationToken cancellationToken)
    {
        var levels = new List<StockRecord>();
        foreach (var sku in reservations.SelectMany(r => r.Lines).Select(l => l.Sku).Distinct(StringComparer.Ordinal))
        {
            levels.Add((await Simulator.GetFromJsonAsync($"admin/stock/{sku}", SimulatorJsonContext.Default.StockRecord, cancellationToken))!);
        }

        return levels;
    }

    /// <summary>Runs run.sh's control command line for PostgreSQL (stop, start), then drops this side's dead connections.</summary>
    public async Task PostgresAsync(string command, CancellationToken cancellationToken)
    {
        await ControlAsync("STOREFRONT_POSTGRES_CTL", command, cancellationToken);
        Database.Clear();
    }

    /// <summary>The same for Azurite (its data survives a stop).</summary>
    public static Task AzuriteAsync(string command, CancellationToken cancellationToken) => ControlAsync("STOREFRONT_AZURITE_CTL", command, cancellationToken);

    /// <summary>Kills the worker process outright (SIGKILL, as kill -9); the host starts a new one.</summary>
    public void KillWorker()
    {
        var pid = Host.WorkerProcessId ?? throw new InvalidOperationException("the host has no worker");
        using var worker = Process.GetProcessById(pid);
        worker.Kill();
        Log($"killed the worker (pid {pid})");
    }

    public async Task<Dictionary<string, long>> OrderStatusesAsync(Guid[] ids, CancellationToken cancellationToken) =>
        await CountByStatusAsync("SELECT status, count(*) FROM orders WHERE id = ANY($1) GROUP BY status", ids, cancellationToken);

    public async Task<Dictionary<string, long>> ReportStatusesAsync(Guid[] ids, CancellationToken cancellationToken) =>
        await CountByStatusAsync("SELECT status, count(*) FROM reports WHERE id = ANY($1) GROUP BY status", ids, cancellationToken);

    public async Task<List<StoredOrder>> OrdersAsync(Guid[] ids, CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand("SELECT id, idempotency_key, status, customer_id, failure_reason, updated_at FROM orders WHERE id = ANY($1)");
        command.Parameters.AddWithValue(ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var orders = new List<StoredOrder>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(new StoredOrder(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return orders;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        App.Dispose();
        await Host.DisposeAsync();
        _logs.Dispose();
        Simulator.Dispose();
        await _simulatorApp.StopAsync();
        await _simulatorApp.DisposeAsync();
        await Database.DisposeAsync();
    }

    public static void Log(string message) => Console.Error.WriteLine($"[soak] {DateTimeOffset.UtcNow:HH:mm:ss} {message}");

    private async Task<Dictionary<string, long>> CountByStatusAsync(string sql, Guid[] ids, CancellationToken cancellationToken)
    {
        await using var command = Database.CreateCommand(sql);
        command.Parameters.AddWithValue(ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }

        return result;
    }

    private static async Task ControlAsync(string variable, string command, CancellationToken cancellationToken)
    {
        var commandLine = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } line
            ? line
            : throw new InvalidOperationException($"{variable} is not set: run with ./tests/Performance/Soak/run.sh, which exports it.");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{commandLine} {command}");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run '{commandLine} {command}'");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ControlTimeout);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{commandLine} {command}' exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run with ./tests/Performance/Soak/run.sh, which provisions PostgreSQL and Azurite.");
}
