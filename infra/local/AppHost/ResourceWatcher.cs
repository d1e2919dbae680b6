using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.AppHost;

/// <summary>
/// Shows in the terminal what the dashboard shows: each resource's state changes and its console output (also written
/// to STATE/logs/NAME.log). Stops the run when a resource fails to start or a long-running one ends by itself (DCP
/// would leave its dependents waiting for ever).
/// </summary>
internal sealed class ResourceWatcher(IServiceProvider services, string logDirectory, IReadOnlySet<string> oneShot, IReadOnlySet<string> logsRotatedByLibrary)
{
    private static readonly HashSet<string> Ended = [KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart];

    private readonly Dictionary<string, string> _states = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pumped = new(StringComparer.Ordinal);

    public bool Failed { get; private set; }

    public async Task RunAsync(CancellationToken stopping)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        try
        {
            await foreach (var change in notifications.WatchAsync(stopping))
            {
                // Only the stack's processes (not the dashboard, not parameters).
                if (change.Resource is not ExecutableResource || change.Resource.Name.StartsWith("aspire-", StringComparison.Ordinal))
                {
                    continue;
                }

                var name = change.Resource.Name;
                if (_pumped.Add(change.ResourceId))
                {
                    _ = PumpAsync(name, change.ResourceId, stopping);
                }

                var snapshot = change.Snapshot;
                if (snapshot.State?.Text is not { Length: > 0 } state)
                {
                    continue;
                }

                var text = state == KnownResourceStates.Running && snapshot.HealthStatus is { } health ? $"{state} ({health})"
                    : Ended.Contains(state) && snapshot.ExitCode is { } code ? $"{state} (exit code {code})"
                    : state;
                if (!_states.TryGetValue(name, out var previous) || previous != text)
                {
                    _states[name] = text;
                    RunCommand.Log($"{name}: {text}");
                }

                var failed = state == KnownResourceStates.FailedToStart
                    || (Ended.Contains(state) && (!oneShot.Contains(name) || snapshot.ExitCode is not 0));
                if (failed && !stopping.IsCancellationRequested && !Failed)
                {
                    Failed = true;
                    RunCommand.Log($"error: {name} {(oneShot.Contains(name) ? "failed" : "stopped by itself")} ({text}); see {Path.Combine(logDirectory, name + ".log")}; stopping everything");
                    lifetime.StopApplication();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PumpAsync(string name, string resourceId, CancellationToken stopping)
    {
        var loggers = services.GetRequiredService<ResourceLoggerService>();
        var file = Path.Combine(logDirectory, name + ".log");
        if (!logsRotatedByLibrary.Contains(name) && new FileInfo(file) is { Exists: true, Length: > 0 })
        {
            File.Move(file, file + ".1", overwrite: true);
        }

        await using var log = new StreamWriter(new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var prefix = name.PadRight(16) + "| ";
        try
        {
            // Watched by id: DCP's ids carry a suffix (postgres-abcdefgh); by name nothing would come.
            await foreach (var lines in loggers.WatchAsync(resourceId).WithCancellation(CancellationToken.None))
            {
                foreach (var line in lines)
                {
                    await log.WriteLineAsync(line.Content);
                    // DCP puts its own timestamp first ("2026-11-30T17:19:16.6039110Z "); the file keeps it.
                    var content = line.Content.Length > 28 && line.Content[4] == '-' && line.Content[10] == 'T' && line.Content.IndexOf("Z ", StringComparison.Ordinal) is > 18 and < 40 and var end
                        ? line.Content[(end + 2)..]
                        : line.Content;
                    await (line.IsErrorMessage ? Console.Error : Console.Out).WriteLineAsync(prefix + content);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
