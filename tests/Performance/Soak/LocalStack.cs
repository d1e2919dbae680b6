using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.DevStack;
using Storefront.FunctionsHost;
using Storefront.ServiceSimulator;

namespace Storefront.Soak;

/// <summary>An order as the database has it, for the checks after a run.</summary>
public sealed record StoredOrder(Guid Id, string IdempotencyKey, string Status, string CustomerId, string? FailureReason, DateTimeOffset UpdatedAt)
{
    public bool IsFinished => Status is "confirmed" or "rejected" or "failed";
}

/// <summary>
/// The stack both modes run against: PostgreSQL and Azurite (the dev stack's, on the run's ports and state folder), the
/// service simulator in-process (realistic latencies), the app under the local Functions host with the mode's
/// settings, an HTTP client for each and the database; plus stopping and starting PostgreSQL, Azurite and the worker.
/// </summary>
public sealed class LocalStack : IAsyncDisposable
{
    /// <summary>Latency of each simulated service: base and uniform jitter in ms (a healthy, realistic day).</summary>
    public static readonly (string Service, int LatencyMs, int JitterMs)[] Latencies =
    [
        ("inventory", 25, 30), ("reviews", 35, 40), ("fx", 60, 40), ("payments", 250, 150), ("shipping", 150, 100), ("notifications", 40, 30),
    ];

    private static readonly TimeSpan ControlTimeout = TimeSpan.FromMinutes(2);

    private readonly DevStack.DevStack _stack;
    private readonly InProcessSimulator _simulator;
    private readonly ILoggerFactory _logs;
    private bool _disposed;

    private LocalStack(DevStack.DevStack stack, InProcessSimulator simulator, ILoggerFactory logs, FunctionsHost.FunctionsHost host, NpgsqlDataSource database, HttpClient app)
    {
        _stack = stack;
        _simulator = simulator;
        _logs = logs;
        SimulatorUri = simulator.Address;
        Host = host;
        Database = database;
        App = app;
        Simulator = new HttpClient { BaseAddress = SimulatorUri, Timeout = TimeSpan.FromSeconds(60) };
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
        var stack = await DevStack.DevStack.StartAsync(
            new DevStackOptions
            {
                StateDirectory = options.StateDirectory,
                LogDirectory = options.LogDirectory,
                PostgresPort = options.PostgresPort,
                AzuritePort = options.AzuritePort,
                PortHint = "pass --postgres-port / --azurite-port",
            },
            Log,
            cancellationToken);
        var simulatorArgs = new List<string>();
        foreach (var (service, latency, jitter) in Latencies)
        {
            simulatorArgs.Add($"--Simulator:Services:{service}:LatencyMs={latency}");
            simulatorArgs.Add($"--Simulator:Services:{service}:JitterMs={jitter}");
        }

        simulatorArgs.AddRange(simulatorSettings.Select(setting => $"--Simulator:{setting}"));
        var simulator = await InProcessSimulator.StartAsync(simulatorArgs, cancellationToken);
        var settings = stack.AppSettings(simulator.Address);
        foreach (var (key, value) in appSettings)
        {
            settings[key] = value;
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
        var local = new LocalStack(stack, simulator, logs, host, NpgsqlDataSource.Create(stack.PostgresConnectionString), app);
        Log($"app on {host.BaseAddress} (worker pid {host.WorkerProcessId}), simulator on {simulator.Address}");
        return local;
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

    /// <summary>Fast shutdown of PostgreSQL (its data stays), then drops this side's dead connections.</summary>
    public async Task StopPostgresAsync(CancellationToken cancellationToken)
    {
        await _stack.Postgres!.StopAsync(cancellationToken);
        Database.Clear();
    }

    public async Task StartPostgresAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(ControlTimeout);
        await _stack.Postgres!.StartAsync(bound.Token);
        Database.Clear();
    }

    /// <summary>Stops Azurite (its data survives a stop).</summary>
    public Task StopAzuriteAsync(CancellationToken cancellationToken) => _stack.Azurite!.StopAsync(cancellationToken);

    public async Task StartAzuriteAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(ControlTimeout);
        await _stack.Azurite!.StartAsync(bound.Token);
    }

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
        await _simulator.DisposeAsync();
        await Database.DisposeAsync();
        await _stack.DisposeAsync();
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
}
