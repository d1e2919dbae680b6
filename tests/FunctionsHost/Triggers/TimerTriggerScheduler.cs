using Cronos;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;
using Storefront.FunctionsHost.Worker;

namespace Storefront.FunctionsHost.Triggers;

/// <summary>
/// Runs one timer-triggered function on its schedule: a six-field CRON expression (with seconds,
/// as NCrontab in the real host), a five-field one, or a TimeSpan interval; %Setting% resolved.
/// Occurrences never overlap: the next one is computed after the previous invocation ends.
/// </summary>
internal sealed class TimerTriggerScheduler : IAsyncDisposable
{
    private readonly FunctionDescriptor _function;
    private readonly WorkerSupervisor _supervisor;
    private readonly ILogger _logger;
    private readonly Func<DateTimeOffset, DateTimeOffset> _next;
    private readonly CancellationTokenSource _stopping = new();
    private Task _running = Task.CompletedTask;

    public TimerTriggerScheduler(FunctionDescriptor function, AppSettings settings, WorkerSupervisor supervisor, ILogger logger)
    {
        _function = function;
        _supervisor = supervisor;
        _logger = logger;
        Schedule = settings.Resolve(function.Property("schedule") ?? throw new InvalidOperationException($"{function.Name}: timerTrigger without schedule."));
        _next = ParseSchedule(Schedule);
    }

    public string Schedule { get; }

    public void Start() => _running = RunAsync(_stopping.Token);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _running.ConfigureAwait(false);
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

    private async Task RunAsync(CancellationToken stopping)
    {
        DateTimeOffset? last = null;
        if (_function.Flag("runOnStartup"))
        {
            await InvokeAsync(last, _next(DateTimeOffset.UtcNow), stopping).ConfigureAwait(false);
            last = DateTimeOffset.UtcNow;
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

    private async Task InvokeAsync(DateTimeOffset? last, DateTimeOffset next, CancellationToken stopping, bool isPastDue = false)
    {
        try
        {
            var worker = await _supervisor.GetWorkerAsync(stopping).ConfigureAwait(false);
            var response = await worker.InvokeAsync(Invocations.ForTimer(_function, last, next, isPastDue), CancellationToken.None).ConfigureAwait(false);
            if (response.Result?.Status != StatusResult.Types.Status.Success)
            {
                _logger.LogWarning("Timer function {Function} failed: {Error}", _function.Name, response.Result?.Exception?.Message);
            }
        }
        catch (Exception exception) when (exception is WorkerUnavailableException or OperationCanceledException)
        {
            _logger.LogWarning("Timer function {Function} did not run: {Error}", _function.Name, exception.Message);
        }
    }
}
