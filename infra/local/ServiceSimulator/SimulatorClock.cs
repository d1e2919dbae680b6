namespace Storefront.ServiceSimulator;

/// <summary>
/// UTC from a monotonic high-resolution timestamp: the wall clock read once at start plus elapsed timestamp ticks, so call-log
/// durations are exact (100 ns resolution) and never go backwards.
/// </summary>
internal sealed class SimulatorClock(TimeProvider time)
{
    private readonly DateTimeOffset _baseUtc = time.GetUtcNow();
    private readonly long _baseTimestamp = time.GetTimestamp();

    public DateTimeOffset UtcNow => _baseUtc + time.GetElapsedTime(_baseTimestamp);

    /// <summary>Waits until <see cref="UtcNow"/> has reached <paramref name="deadline"/> (Task.Delay alone may wake a little early).</summary>
    public async Task DelayUntilAsync(DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        for (var remaining = deadline - UtcNow; remaining > TimeSpan.Zero; remaining = deadline - UtcNow)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), time, cancellationToken);
        }
    }
}
