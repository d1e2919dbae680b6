using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Storefront.FunctionsHost.Worker;

/// <summary>
/// Keeps one worker running: launches it, walks it through init, metadata and loads, and when it
/// dies fails what was in flight and starts a new one. Callers wait for the current ready worker.
/// </summary>
internal sealed class WorkerSupervisor : IAsyncDisposable
{
    private const int MaxConsecutiveFailures = 5;

    private readonly FunctionsHostOptions _options;
    private readonly AppSettings _settings;
    private readonly WorkerRegistry _registry;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource<WorkerConnection> _ready = NewReadySource();
    private WorkerConnection? _current;
    private Task _supervision = Task.CompletedTask;
    private Uri? _grpcUri;

    private readonly FunctionTimeout _functionTimeout;

    public WorkerSupervisor(FunctionsHostOptions options, AppSettings settings, HostJson hostJson, WorkerRegistry registry, ILoggerFactory loggerFactory)
    {
        _options = options;
        _functionTimeout = new FunctionTimeout(hostJson.FunctionTimeout, options.FunctionTimeoutGracePeriod);
        _settings = settings;
        _registry = registry;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<WorkerSupervisor>();
    }

    public IReadOnlyList<FunctionDescriptor> Functions { get; private set; } = [];

    public int? WorkerProcessId => _current?.ProcessId;

    /// <summary>Whether the current worker runs its own Kestrel for HTTP functions (the ASP.NET Core integration).</summary>
    public bool WorkerServesHttp => _current?.HttpUri is not null;

    public int Restarts { get; private set; }

    public int InvocationsPastTimeout => _current?.PastTimeout ?? 0;

    /// <summary>Starts the first worker and returns once its functions are loaded.</summary>
    public async Task StartAsync(Uri grpcUri, CancellationToken cancellationToken)
    {
        _grpcUri = grpcUri;
        var first = await LaunchAsync(cancellationToken).ConfigureAwait(false);
        Publish(first);
        _supervision = SuperviseAsync(first);
    }

    /// <summary>The ready worker; waits through a restart, up to the start timeout.</summary>
    public async Task<WorkerConnection> GetWorkerAsync(CancellationToken cancellationToken)
    {
        Task<WorkerConnection> ready;
        lock (_gate)
        {
            ready = _ready.Task;
        }

        try
        {
            return await ready.WaitAsync(_options.WorkerStartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new WorkerUnavailableException("No worker became ready in time.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_current is { } worker)
        {
            await worker.TerminateAsync(_options.ShutdownGracePeriod).ConfigureAwait(false);
        }

        await _supervision.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task SuperviseAsync(WorkerConnection worker)
    {
        var failures = 0;
        while (true)
        {
            await worker.Ended.ConfigureAwait(false);
            _registry.Remove(worker);
            await worker.DisposeAsync().ConfigureAwait(false);
            if (_stopping.IsCancellationRequested)
            {
                _ready.TrySetException(new WorkerUnavailableException("The host is stopping."));
                return;
            }

            while (true)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Pow(2, failures)), _stopping.Token).ConfigureAwait(false);
                    worker = await LaunchAsync(_stopping.Token).ConfigureAwait(false);
                    Restarts++;
                    failures = 0;
                    Publish(worker);
                    break;
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    _ready.TrySetException(new WorkerUnavailableException("The host is stopping."));
                    return;
                }
                catch (Exception exception) when (exception is WorkerUnavailableException or InvalidOperationException or TimeoutException or IOException)
                {
                    failures++;
                    _logger.LogError(exception, "Worker restart failed ({Failures} of {Max})", failures, MaxConsecutiveFailures);
                    if (failures >= MaxConsecutiveFailures)
                    {
                        _ready.TrySetException(new WorkerUnavailableException("The worker cannot be restarted."));
                        return;
                    }
                }
            }
        }
    }

    /// <summary>Callers arriving after a worker ended wait for its successor instead of failing on it.</summary>
    private void Unpublish(WorkerConnection worker)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_current, worker) && _ready.Task.IsCompleted)
            {
                _ready = NewReadySource();
            }
        }
    }

    private void Publish(WorkerConnection worker)
    {
        lock (_gate)
        {
            _current = worker;
            _ready.TrySetResult(worker);
        }
    }

    private async Task<WorkerConnection> LaunchAsync(CancellationToken cancellationToken)
    {
        var appDirectory = Path.GetFullPath(_options.AppDirectory);
        var (executable, workerPath) = await ReadWorkerConfigAsync(appDirectory, cancellationToken).ConfigureAwait(false);
        var workerId = Guid.NewGuid().ToString();
        var requestId = Guid.NewGuid().ToString();
        var worker = new WorkerConnection(workerId, _functionTimeout, _loggerFactory, Unpublish);
        _registry.Add(worker);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.WorkerStartTimeout);
        try
        {
            var port = _grpcUri!.Port.ToString(CultureInfo.InvariantCulture);
            string[] arguments =
            [
                workerPath,
                "--host", _grpcUri.Host, "--port", port, "--workerId", workerId, "--requestId", requestId,
                "--grpcMaxMessageLength", int.MaxValue.ToString(CultureInfo.InvariantCulture),
                "--functions-uri", _grpcUri.ToString(), "--functions-worker-id", workerId, "--functions-request-id", requestId,
                "--functions-grpc-max-message-length", int.MaxValue.ToString(CultureInfo.InvariantCulture),
            ];
            var process = await ProcessLauncher.StartAsync(executable, arguments, startInfo => ConfigureEnvironment(startInfo, appDirectory), timeout.Token).ConfigureAwait(false);
            worker.AttachProcess(process);
            _logger.LogInformation("Worker {WorkerId} started as process {ProcessId}", workerId, worker.ProcessId);

            await worker.WaitAttachedAsync(timeout.Token).ConfigureAwait(false);
            await worker.InitializeAsync(appDirectory, timeout.Token).ConfigureAwait(false);
            Functions = await worker.LoadFunctionsAsync(appDirectory, timeout.Token).ConfigureAwait(false);
            if (worker.HttpUri is { } httpUri)
            {
                await WaitForListenerAsync(httpUri, timeout.Token).ConfigureAwait(false);
            }

            _logger.LogInformation("Worker {WorkerId} ready with {Count} functions", workerId, Functions.Count);
            return worker;
        }
        catch (Exception exception)
        {
            _registry.Remove(worker);
            await worker.DisposeAsync().ConfigureAwait(false);
            if (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The worker was not ready within {_options.WorkerStartTimeout}.", exception);
            }

            throw;
        }
    }

    /// <summary>
    /// The worker announces its Kestrel endpoint before it listens; a worker counts as ready only
    /// once the endpoint accepts connections, so the first request after a restart is not refused.
    /// </summary>
    private static async Task WaitForListenerAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try
            {
                await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void ConfigureEnvironment(System.Diagnostics.ProcessStartInfo startInfo, string appDirectory)
    {
        startInfo.WorkingDirectory = appDirectory;
        var environment = startInfo.Environment;
        environment.Remove("ASPNETCORE_URLS");
        foreach (var (key, value) in _settings.AppValues)
        {
            environment[key] = value;
        }

        environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;
        environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        environment["AzureWebJobsScriptRoot"] = appDirectory;
        environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
    }

    private static async Task<(string Executable, string WorkerPath)> ReadWorkerConfigAsync(string appDirectory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(appDirectory, "worker.config.json");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} not found: is '{appDirectory}' a built .NET isolated function app?");
        }

        await using var stream = File.OpenRead(path);
        using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        var description = document.RootElement.GetProperty("description");
        var executable = description.GetProperty("defaultExecutablePath").GetString() ?? "dotnet";
        var workerPath = description.GetProperty("defaultWorkerPath").GetString()
            ?? throw new InvalidOperationException("worker.config.json has no defaultWorkerPath.");
        return (executable, Path.Combine(appDirectory, workerPath));
    }

    private static TaskCompletionSource<WorkerConnection> NewReadySource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
