using Cronos;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;
using Storefront.FunctionsHost.Worker;

namespace Storefront.FunctionsHost.Triggers;

/// <summary>
/// Runs one timer-triggered function on its schedule: a six-field CRON expression (with seconds,
/// as NCrontab in the real host), a five-field one, or a TimeSpan interval; %Setting% resolved.
/// Occurrences never overlap: the next one is computed after the previous invocation ends. As the
/// real TimerListener: a run on schedule is never past due; with the schedule monitor (useMonitor,
/// by default on for schedules a minute or more apart) an occurrence missed while no host ran is run
/// at start with IsPastDue, instead of runOnStartup's run.
/// </summary>
internal sealed class TimerTriggerScheduler : IAsyncDisposable
{
    private readonly FunctionDescriptor _function;
    private readonly WorkerSupervisor _supervisor;
    private readonly ILogger _logger;
    private readonly Func<DateTimeOffset, DateTimeOffset> _next;
    private readonly ScheduleMonitor? _monitor;
    private static readonly TimeSpan StatusWriteTimeout = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    public TimerTriggerScheduler(FunctionDescriptor function, AppSettings settings, string appDirectory, WorkerSupervisor supervisor, ILogger logger)
    {
        _function = function;
        _supervisor = supervisor;
        _logger = logger;
        Schedule = settings.Resolve(function.Property("schedule") ?? throw new InvalidOperationException($"{function.Name}: timerTrigger without schedule."));
        _next = ParseSchedule(Schedule);
        if (UsesMonitor(function, _next))
        {
            _monitor = new ScheduleMonitor(settings, appDirectory, function.Name);
        }
    }

    public string Schedule { get; }

    public string FunctionName => _function.Name;

    public void Start() => _running = RunAsync(_stopping.Token);

    /// <summary>
    /// Stops the schedule and cancels a running invocation (InvocationCancel), as the real TimerListener's stop does,
    /// then waits up to the grace period for its answer; one that does not answer is ended with the worker.
    /// </summary>
    public async Task StopAsync(TimeSpan gracePeriod)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.WaitAsync(gracePeriod).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Timer function {Function}: its cancelled run did not end within {GracePeriod}", _function.Name, gracePeriod);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal static Func<DateTimeOffset, DateTimeOffset> ParseSchedule(string schedule)
    {
        if (TimeSpan.TryParse(schedule, System.Globalization.CultureInfo.InvariantCulture, out var interval) && interval > TimeSpan.Zero)
        {
            return from => from + interval;
        }

        var fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var expression = CronExpression.Parse(schedule, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        return from => expression.GetNextOccurrence(from, TimeZoneInfo.Utc)
            ?? throw new InvalidOperationException($"Schedule '{schedule}' has no next occurrence.");
    }

    /// <summary>An explicit useMonitor wins; otherwise the monitor is on when occurrences are at least a minute apart.</summary>
    internal static bool UsesMonitor(FunctionDescriptor function, Func<DateTimeOffset, DateTimeOffset> next)
    {
        if (HostJson.TryGet(function.Trigger, "useMonitor", out _))
        {
            return function.Flag("useMonitor");
        }

        var first = next(DateTimeOffset.UtcNow);
        return next(first) - first >= TimeSpan.FromMinutes(1);
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        DateTimeOffset? last = null;
        try
        {
            var missed = _monitor is null ? null : await MissedOccurrenceAsync(stopping).ConfigureAwait(false);
            if (missed is { } occurrence)
            {
                _logger.LogInformation("Timer function {Function} missed its occurrence at {Occurrence:O}; running it now, past due", _function.Name, occurrence);
                await InvokeAsync(last, _next(DateTimeOffset.UtcNow), stopping, isPastDue: true).ConfigureAwait(false);
                last = DateTimeOffset.UtcNow;
            }
            else if (_function.Flag("runOnStartup"))
            {
                await InvokeAsync(last, _next(DateTimeOffset.UtcNow), stopping).ConfigureAwait(false);
                last = DateTimeOffset.UtcNow;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }

        while (!stopping.IsCancellationRequested)
        {
            var due = _next(DateTimeOffset.UtcNow);
            try
            {
                var wait = due - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // A scheduled run is never past due in the real TimerListener, however late the timer fired.
            await InvokeAsync(last, _next(due), stopping).ConfigureAwait(false);
            last = due;
        }
    }

    /// <summary>
    /// Reads the stored status: the occurrence it expected next, when that has passed (the schedule read anew from
    /// the last run, so a changed schedule counts); null when nothing was missed. The first start stores a status.
    /// </summary>
    private async Task<DateTimeOffset?> MissedOccurrenceAsync(CancellationToken stopping)
    {
        var now = DateTimeOffset.UtcNow;
        try
        {
            var status = await _monitor!.ReadAsync(stopping).ConfigureAwait(false);
            if (status is null)
            {
                await _monitor.WriteAsync(new ScheduleStatus(default, _next(now), now), stopping).ConfigureAwait(false);
                return null;
            }

            var expected = status.Last == default ? status.Next : _next(status.Last);
            return now > expected ? expected : null;
        }
        catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException or IOException)
        {
            _logger.LogWarning("Timer function {Function}: the schedule status could not be read ({Error}); no missed occurrence is run", _function.Name, exception.Message);
            return null;
        }
    }

    private async Task InvokeAsync(DateTimeOffset? last, DateTimeOffset next, CancellationToken stopping, bool isPastDue = false)
    {
        var started = DateTimeOffset.UtcNow;
        try
        {
            var worker = await _supervisor.GetWorkerAsync(stopping).ConfigureAwait(false);
            var response = await worker.InvokeAsync(Invocations.ForTimer(_function, last, next, isPastDue), stopping).ConfigureAwait(false);
            if (response.Result?.Status != StatusResult.Types.Status.Success)
            {
                _logger.LogWarning("Timer function {Function} failed: {Error}", _function.Name, response.Result?.Exception?.Message);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped before a worker was ready: nothing ran, so nothing is recorded, as the real listener skips a run once stopped.
            return;
        }
        catch (Exception exception) when (exception is WorkerUnavailableException or OperationCanceledException)
        {
            _logger.LogWarning("Timer function {Function} did not run: {Error}", _function.Name, exception.Message);
        }

        await RecordAsync(started).ConfigureAwait(false);
    }

    /// <summary>
    /// As the listener does after every invocation, failed or cancelled or not: the run is the last occurrence. Not
    /// cancelled by a stop (the real listener writes it then too), but bounded, so a storage outage cannot hold a stop.
    /// </summary>
    private async Task RecordAsync(DateTimeOffset last)
    {
        if (_monitor is null)
        {
            return;
        }

        using var bound = new CancellationTokenSource(StatusWriteTimeout);
        try
        {
            await _monitor.WriteAsync(new ScheduleStatus(last, _next(last), DateTimeOffset.UtcNow), bound.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException or IOException or OperationCanceledException)
        {
            _logger.LogWarning("Timer function {Function}: the schedule status could not be stored ({Error})", _function.Name, exception.Message);
        }
    }
}
