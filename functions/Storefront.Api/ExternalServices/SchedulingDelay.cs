using System.Diagnostics;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// How late this process runs its work: every <see cref="ProbeInterval"/> a timer queues a probe to the thread pool,
/// and the probe's delay (the timer's own lateness plus its wait in the queue) is kept for <see cref="Window"/>.
/// When the process is starved of CPU (or its thread pool is saturated), a dependency call can time out while the
/// dependency answered in time and only the continuation waited; circuit breakers and hedges ask <see cref="IsLateFor"/>
/// so that such timeouts neither open a circuit nor send more calls.
/// </summary>
public sealed class SchedulingDelay : IDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>How far back the average looks: about the longest attempt a breaker judges.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private const int WaitsPerCall = 8;

    /// <summary>
    /// Work items waiting for the thread pool from which the process counts as late at once: a burst that swamps the
    /// pool shows in its queue before any probe has waited long (a fresh worker's first burst had 90-320 waiting on
    /// three threads; a warm worker at 1024 connections had 0-83).
    /// </summary>
    private const int SwampedQueueLength = 64;

    private readonly Timer _timer;
    private readonly long[] _delayTicks = new long[(int)(Window / ProbeInterval)];
    private int _next;
    private long _lastTimerAt;
    private long _probeQueuedAt;
    private long _oldestPendingSince;

    public SchedulingDelay()
    {
        _lastTimerAt = Stopwatch.GetTimestamp();
        _timer = new Timer(_ => QueueProbe(), null, ProbeInterval, ProbeInterval);
    }

    /// <summary>
    /// How late the process runs now: the largest of the average over the last <see cref="Window"/>, the last probe's
    /// delay and how long a probe still in the queue has waited so far. The average shows a process starved for a while;
    /// the other two show a burst that swamps the thread pool at once, when a window that was quiet until then would
    /// still average it away while the burst's first calls time out.
    /// </summary>
    private TimeSpan Current
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _delayTicks.Length; i++)
            {
                total += Volatile.Read(ref _delayTicks[i]);
            }

            var pendingSince = Interlocked.Read(ref _oldestPendingSince);
            var pending = pendingSince == 0 ? 0 : Stopwatch.GetElapsedTime(pendingSince).Ticks;
            var last = Volatile.Read(ref _delayTicks[(uint)Volatile.Read(ref _next) % (uint)_delayTicks.Length]);
            return TimeSpan.FromTicks(Math.Max(total / _delayTicks.Length, Math.Max(last, pending)));
        }
    }

    /// <summary>
    /// Whether this process runs late enough to make an attempt of <paramref name="attemptTimeout"/> time out on its own:
    /// its thread pool is swamped, or it runs an eighth of the attempt late. One call waits for the pool several times
    /// (a new connection, the request's send, the response's headers and body), so lateness counts once per wait: with
    /// a quarter of the attempt as the bar and no look at the queue, a fresh worker under a burst (its JIT busy on top of
    /// the load) ran 30-50 ms late at each wait, timed out calls that the dependencies answered in 50 ms, and opened
    /// their circuits.
    /// </summary>
    public bool IsLateFor(TimeSpan attemptTimeout) =>
        ThreadPool.PendingWorkItemCount >= SwampedQueueLength || Current >= attemptTimeout / WaitsPerCall;

    public void Dispose() => _timer.Dispose();

    private void QueueProbe()
    {
        var now = Stopwatch.GetTimestamp();
        var timerLate = Stopwatch.GetElapsedTime(Interlocked.Exchange(ref _lastTimerAt, now)) - ProbeInterval;
        Interlocked.Exchange(ref _probeQueuedAt, now);
        Interlocked.CompareExchange(ref _oldestPendingSince, now, 0);
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (self, late) = state;
                Interlocked.Exchange(ref self._oldestPendingSince, 0);
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
