namespace Storefront.DevStack;

/// <summary>
/// A server process of the dev stack (PostgreSQL, Azurite) that can be stopped and started again on the same data: its
/// child process and pid file, so a run that was killed leaves nothing the next one cannot clean up.
/// </summary>
internal sealed class SupervisedServer(string name, string pidPath, int stopSignal, TimeSpan stopGrace, Action<string> log)
{
    private readonly PidFile _pidFile = new(pidPath, name);
    private ChildProcess? _process;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Whether the process this object started has ended by itself (false when none was started).</summary>
    public bool HasExited => _process is { HasExited: true };

    /// <summary>Stops what a killed run left behind, if its pid file still names a live process of that run.</summary>
    public Task ClearStaleAsync(CancellationToken cancellationToken) => _pidFile.ClearStaleAsync(stopSignal, log, cancellationToken);

    public async Task StartAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        _process = await ChildProcess.StartAsync(spec, cancellationToken);
        await _pidFile.WriteAsync(_process, cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_process is null)
        {
            return;
        }

        log($"stopping {name} (pid {_process.Id})");
        await _process.StopAsync(stopGrace, cancellationToken);
        await _process.DisposeAsync();
        _process = null;
        _pidFile.Delete();
    }
}
