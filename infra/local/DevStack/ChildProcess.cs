using System.Collections.Concurrent;
using System.Diagnostics;

namespace Storefront.DevStack;

/// <summary>How to run one child process of the stack.</summary>
public sealed record ProcessSpec(string Name, string FileName, IReadOnlyList<string> Arguments)
{
    public string WorkingDirectory { get; init; } = "/";

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The file its output is appended to; null passes it through to this process's console.</summary>
    public string? LogFile { get; init; }

    /// <summary>The signal that stops it gracefully; the kernel also sends it when this process dies (setpriv --pdeathsig).</summary>
    public int StopSignal { get; init; } = Signals.Terminate;

    /// <summary>The OS user to run it as (only as root; PostgreSQL refuses to run as root).</summary>
    public string? User { get; init; }

    /// <summary>
    /// The command for a supervisor other than <see cref="ChildProcess"/> (the run command's AppHost hands it to DCP):
    /// the program itself, or as root with a <see cref="User"/>, setpriv to that user, which execs in place.
    /// </summary>
    public (string FileName, IReadOnlyList<string> Arguments) Command(bool asRoot) =>
        asRoot && User is { } user
            ? ("setpriv", [$"--reuid={user}", $"--regid={user}", "--init-groups", "--", FileName, .. Arguments])
            : (FileName, Arguments);
}

/// <summary>
/// A process this stack started, in its own session (a terminal's Ctrl-C reaches only us, and we stop the children in
/// order) and with a parent-death signal (it goes when we go, even after a SIGKILL). Every live one is stopped at the
/// latest when this process exits.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<ChildProcess, bool> Live = new();
    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> Launches = [];

    private readonly Process _process;
    private readonly StreamWriter? _log;
    private readonly Lock _logLock = new();
    private bool _logClosed;

    static ChildProcess()
    {
        // The parent-death signal is tied to the thread that forked the child, not to the process: children are forked
        // from one thread that lives as long as this process (a thread-pool thread may retire and take them along).
        new Thread(() =>
        {
            foreach (var (start, started) in Launches.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}"));
                }
                catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or InvalidOperationException)
                {
                    started.SetException(exception);
                }
            }
        })
        { IsBackground = true, Name = "devstack-launcher" }.Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAllNow();
    }

    private ChildProcess(ProcessSpec spec, Process process, StreamWriter? log)
    {
        Spec = spec;
        _process = process;
        _log = log;
        Id = process.Id;
        StartTime = ProcFs.StartTime(Id) ?? 0;
    }

    public ProcessSpec Spec { get; }

    public int Id { get; }

    /// <summary>The start time /proc gives (see <see cref="ProcFs.StartTime"/>).</summary>
    public long StartTime { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static async Task<ChildProcess> StartAsync(ProcessSpec spec, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // setsid and setpriv exec in place: the pid we get is the program's own.
        foreach (var argument in CommandLine(spec, System.Environment.IsPrivilegedProcess))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in spec.Environment)
        {
            start.Environment[key] = value;
        }

        StreamWriter? log = null;
        if (spec.LogFile is { } file)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            log = new StreamWriter(new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }

        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Launches.Add((start, started), cancellationToken);
        Process process;
        try
        {
            process = await started.Task.WaitAsync(cancellationToken);
        }
        catch
        {
            log?.Dispose();
            throw;
        }

        var child = new ChildProcess(spec, process, log);
        Live[child] = true;
        process.OutputDataReceived += (_, line) => child.Write(line.Data, Console.Out);
        process.ErrorDataReceived += (_, line) => child.Write(line.Data, Console.Error);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return child;
    }

    /// <summary>The argument list after "setsid".</summary>
    internal static List<string> CommandLine(ProcessSpec spec, bool asRoot)
    {
        var arguments = new List<string> { "setpriv", $"--pdeathsig={Signals.Name(spec.StopSignal)}" };
        if (asRoot && spec.User is { } user)
        {
            arguments.AddRange([$"--reuid={user}", $"--regid={user}", "--init-groups"]);
        }

        arguments.Add("--");
        arguments.Add(spec.FileName);
        arguments.AddRange(spec.Arguments);
        return arguments;
    }

    /// <summary>Completes when the process has exited (or the bound has passed: then false).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan within, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return _process.HasExited;
        }
    }

    /// <summary>The stop signal, then after <paramref name="grace"/> SIGKILL; then SIGKILL to what is left of its process group.</summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (!_process.HasExited)
        {
            Signals.Send(Id, Spec.StopSignal);
            if (!await WaitForExitAsync(grace, cancellationToken))
            {
                Signals.Send(-Id, Signals.Kill);
                await WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
        }

        // Children it left behind (its group: it is a session leader) go too.
        Signals.Send(-Id, Signals.Kill);
        Live.TryRemove(this, out _);
        lock (_logLock)
        {
            _logClosed = true;
            _log?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
    }

    /// <summary>At process exit: whatever was not stopped in order is signalled and given a few seconds (a synchronous handler).</summary>
    private static void StopAllNow()
    {
        var children = Live.Keys.Where(c => !c._process.HasExited).ToList();
        foreach (var child in children)
        {
            Signals.Send(child.Id, child.Spec.StopSignal);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        foreach (var child in children)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !child._process.WaitForExit(left))
            {
                Signals.Send(-child.Id, Signals.Kill);
            }
        }
    }

    private void Write(string? line, TextWriter console)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            if (Spec.LogFile is null)
            {
                console.WriteLine(line);
            }
            else if (!_logClosed)
            {
                _log?.WriteLine(line);
            }
        }
    }
}
