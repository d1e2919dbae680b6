using System.Globalization;

namespace Storefront.DevStack;

/// <summary>What an earlier start left in the state folder's pid file, and what to do about it.</summary>
public enum StaleState
{
    /// <summary>No record, or its process is gone: start afresh.</summary>
    None,

    /// <summary>The process lives but its owner (the stack that started it) is gone: stop it, then start.</summary>
    Orphaned,

    /// <summary>The process and its owner live: another stack uses this state folder.</summary>
    InUse,
}

/// <summary>
/// One line in STATE/NAME.pid: the child's pid and start time, and its owner's (the process that started it). Start
/// times tell a live process from a later one that reuses the pid.
/// </summary>
public sealed record PidRecord(int Pid, long PidStart, int Owner, long OwnerStart)
{
    public static PidRecord? Parse(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 4
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pidStart)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
            && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var ownerStart)
            ? new PidRecord(pid, pidStart, owner, ownerStart)
            : null;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Pid} {PidStart} {Owner} {OwnerStart}");

    /// <param name="startTimeOf">The start time of a live process, null when none has that pid.</param>
    public static StaleState Inspect(PidRecord? record, Func<int, long?> startTimeOf)
    {
        if (record is null || startTimeOf(record.Pid) != record.PidStart)
        {
            return StaleState.None;
        }

        return startTimeOf(record.Owner) == record.OwnerStart ? StaleState.InUse : StaleState.Orphaned;
    }
}

/// <summary>The pid file of one child in a state folder: written when it starts, removed when it stops.</summary>
public sealed class PidFile(string path, string name)
{
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromSeconds(30);

    /// <summary>Refuses when another live stack uses the folder; stops an orphan that a killed stack left behind.</summary>
    public async Task ClearStaleAsync(int stopSignal, Action<string> log, CancellationToken cancellationToken)
    {
        var record = File.Exists(path) ? PidRecord.Parse(await File.ReadAllTextAsync(path, cancellationToken)) : null;
        switch (PidRecord.Inspect(record, ProcFs.StartTime))
        {
            case StaleState.InUse:
                throw new InvalidOperationException(
                    $"{name} in {Path.GetDirectoryName(path)} already runs (pid {record!.Pid}), started by the live process {record.Owner}; stop that first.");
            case StaleState.Orphaned:
                log($"stopping {name} (pid {record!.Pid}) left over from a run that was killed");
                Signals.Send(record.Pid, stopSignal);
                var deadline = DateTime.UtcNow + OrphanGrace;
                while (ProcFs.StartTime(record.Pid) == record.PidStart && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250, cancellationToken);
                }

                if (ProcFs.StartTime(record.Pid) == record.PidStart)
                {
                    Signals.Send(-record.Pid, Signals.Kill);
                }

                break;
        }

        File.Delete(path);
    }

    public Task WriteAsync(ChildProcess child, CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(
            path,
            new PidRecord(child.Id, child.StartTime, Environment.ProcessId, ProcFs.StartTime(Environment.ProcessId) ?? 0).ToString(),
            cancellationToken);

    public void Delete() => File.Delete(path);
}
