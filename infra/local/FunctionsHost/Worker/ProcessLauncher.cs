using System.Collections.Concurrent;
using System.Diagnostics;

namespace Storefront.FunctionsHost.Worker;

/// <summary>
/// Starts worker processes so that they die with the host even when the host is killed outright.
/// On Linux the worker is launched through <c>setpriv --pdeathsig KILL</c>; the kernel sends that
/// signal when the forking *thread* ends, so every fork happens on one dedicated thread that lives
/// as long as the host process (thread-pool threads retire when idle and would take workers with them).
/// </summary>
internal static class ProcessLauncher
{
    private static readonly BlockingCollection<(ProcessStartInfo StartInfo, TaskCompletionSource<Process> Started)> Requests =
        new(boundedCapacity: 16);

    private static readonly Lazy<Thread> LauncherThread = new(() =>
    {
        var thread = new Thread(LaunchLoop) { IsBackground = true, Name = "worker-launcher" };
        thread.Start();
        return thread;
    });

    private static readonly string? SetprivPath = OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists)
        : null;

    public static Task<Process> StartAsync(string fileName, IEnumerable<string> arguments, Action<ProcessStartInfo> configure, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };

        if (SetprivPath is not null)
        {
            startInfo.FileName = SetprivPath;
            startInfo.ArgumentList.Add("--pdeathsig");
            startInfo.ArgumentList.Add("KILL");
            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add(fileName);
        }
        else
        {
            startInfo.FileName = fileName;
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        configure(startInfo);
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = LauncherThread.Value;
        Requests.Add((startInfo, started), cancellationToken);
        return started.Task.WaitAsync(cancellationToken);
    }

    private static void LaunchLoop()
    {
        // A dedicated thread blocking on its own work queue; it never runs async code.
        foreach (var (startInfo, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
                process.Start();
                started.TrySetResult(process);
            }
            catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                started.TrySetException(exception);
            }
        }
    }
}
