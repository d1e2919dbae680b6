using System.Diagnostics;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// How late this process runs its work: every <see cref="ProbeInterval"/> a timer queues a probe to the thread pool,
/// and the probe's delay (the timer's own lateness plus its wait in the queue) is kept for <see cref="Window"/>.
/// When the process is starved of CPU (or its thread pool is saturated), a dependency call can time out while the
/// dependency answered in time and only the continuation waited; circuit breakers ask
/// <see cref="RecentAverage"/> so that such timeouts do not open them. An average, not the maximum: one pause
/// (a garbage collection, a burst of work) delays a few calls, a starved process delays all of them.
/// </summary>
public sealed class SchedulingDelay : IDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How far back <see cref="RecentAverage"/> looks: about the longest attempt a breaker judges.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private readonly Timer _timer;
    private readonly long[] _delayTicks = new long[(int)(Window / ProbeInterval)];
    private int _next;
    private long _lastTimerAt;
    private long _probeQueuedAt;

    public SchedulingDelay()
    {
        _lastTimerAt = Stopwatch.GetTimestamp();
        _timer = new Timer(_ => QueueProbe(), null, ProbeInterval, ProbeInterval);
    }

    /// <summary>The average delay of the probes within the last <see cref="Window"/>.</summary>
    public TimeSpan RecentAverage
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _delayTicks.Length; i++)
            {
                total += Volatile.Read(ref _delayTicks[i]);
            }

            return TimeSpan.FromTicks(total / _delayTicks.Length);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void QueueProbe()
    {
        var now = Stopwatch.GetTimestamp();
        var timerLate = Stopwatch.GetElapsedTime(Interlocked.Exchange(ref _lastTimerAt, now)) - ProbeInterval;
        Interlocked.Exchange(ref _probeQueuedAt, now);
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (self, late) = state;
                var queued = Stopwatch.GetElapsedTime(Interlocked.Read(ref self._probeQueuedAt));
                self.Record(late > queued ? late : queued);
            },
            (this, timerLate),
            preferLocal: false);
    }

    private void Record(TimeSpan delay)
    {
        var slot = (int)((uint)Interlocked.Increment(ref _next) % (uint)_delayTicks.Length);
        Volatile.Write(ref _delayTicks[slot], Math.Max(0, delay.Ticks));
    }
}
