using System.Globalization;

namespace Storefront.DevStack;

public sealed record AzuriteOptions
{
    /// <summary>Holds the emulator's data (azurite/) and its pid file.</summary>
    public required string StateDirectory { get; init; }

    public required int BlobPort { get; init; }

    public required int QueuePort { get; init; }

    public required int TablePort { get; init; }

    public required string LogFile { get; init; }

    public string PortHint { get; init; } = "choose other ports";
}

/// <summary>Azurite (the npm package in infra/local/node_modules) as a foreground child, with its data on disk: queued messages survive a stop and start.</summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    // The storage emulator's well-known development account (public, documented by Microsoft).
    public const string Account = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    private readonly AzuriteOptions _options;
    private readonly Action<string> _log;
    private readonly SupervisedServer _server;

    private AzuriteServer(AzuriteOptions options, Action<string> log)
    {
        _options = options;
        _log = log;
        _server = new SupervisedServer("Azurite", Path.Combine(options.StateDirectory, "azurite.pid"), Signals.Terminate, TimeSpan.FromSeconds(30), log);
    }

    public bool IsRunning => _server.IsRunning;

    public AzuriteOptions Options => _options;

    public string ConnectionString => ConnectionStringFor(_options.BlobPort, _options.QueuePort, _options.TablePort);

    /// <summary>With explicit endpoints: "UseDevelopmentStorage=true" would mean the default ports.</summary>
    public static string ConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/{Account};QueueEndpoint=http://127.0.0.1:{queuePort}/{Account};TableEndpoint=http://127.0.0.1:{tablePort}/{Account};");

    public static async Task<AzuriteServer> StartAsync(AzuriteOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        var server = await PrepareAsync(options, log, cancellationToken);
        await server.StartAsync(cancellationToken);
        return server;
    }

    /// <summary>
    /// Everything before the emulator runs (its binary, the state folder, a killed run's leftover); then either
    /// <see cref="StartAsync(CancellationToken)"/> runs <see cref="Spec"/>, or another supervisor does (the run command's AppHost).
    /// </summary>
    public static async Task<AzuriteServer> PrepareAsync(AzuriteOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        if (!File.Exists(RepoPaths.AzuriteBin))
        {
            throw new InvalidOperationException($"{RepoPaths.AzuriteBin} not found: install Azurite with `npm ci --prefix infra/local` (./infra/local/run.sh and test.sh do)");
        }

        StateFolder.Ensure(options.StateDirectory);
        var server = new AzuriteServer(options, log);
        await server._server.ClearStaleAsync(cancellationToken);
        StateFolder.RotateLog(options.LogFile);
        Directory.CreateDirectory(server.DataDirectory);
        return server;
    }

    public string DataDirectory => Path.Combine(_options.StateDirectory, "azurite");

    /// <summary>The emulator in the foreground; SIGTERM stops it, which lets it close its metadata databases, so queued messages survive a restart.</summary>
    public ProcessSpec Spec =>
        new("azurite", RepoPaths.AzuriteBin,
        [
            "--blobHost", "127.0.0.1", "--blobPort", Text(_options.BlobPort),
            "--queueHost", "127.0.0.1", "--queuePort", Text(_options.QueuePort),
            "--tableHost", "127.0.0.1", "--tablePort", Text(_options.TablePort),
            "--location", DataDirectory, "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent",
        ])
        {
            LogFile = _options.LogFile,
            StopSignal = Signals.Terminate,
        };

    /// <summary>One try: does the queue service answer (any answer will do; unauthenticated it is 403)?</summary>
    public static async Task<bool> AnswersAsync(int queuePort, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{Text(queuePort)}/{Account}?comp=list"), cancellationToken);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Starts the emulator (again, after <see cref="StopAsync"/>) and waits until its queue service answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsRunning)
        {
            return;
        }

        foreach (var port in new[] { _options.BlobPort, _options.QueuePort, _options.TablePort })
        {
            await Ports.EnsureFreeAsync(port, "Azurite", _options.PortHint, cancellationToken);
        }

        Directory.CreateDirectory(DataDirectory);
        _log($"starting Azurite on 127.0.0.1:{_options.BlobPort}/{_options.QueuePort}/{_options.TablePort} (data {DataDirectory}, log {_options.LogFile})");
        await _server.StartAsync(Spec, cancellationToken);
        await WaitReadyAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => _server.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartBound;
        while (!await AnswersAsync(_options.QueuePort, cancellationToken))
        {
            if (_server.HasExited || DateTime.UtcNow > deadline)
            {
                var tail = await StateFolder.TailAsync(_options.LogFile, 20, cancellationToken);
                throw new InvalidOperationException($"Azurite did not start; see {_options.LogFile}:\n{tail}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}
