using System.Globalization;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;

namespace Storefront.FunctionsHost.FixtureApp;

public sealed class BackgroundFunctions
{
    [Function("QueueText")]
    public Task QueueText([QueueTrigger("%FIXTURE_TEXT_QUEUE%")] string message, long dequeueCount, FunctionContext context)
        => Probe.RecordAsync($"text-{message}", dequeueCount.ToString(CultureInfo.InvariantCulture), context.CancellationToken);

    [Function("QueueModel")]
    public Task QueueModel([QueueTrigger("%FIXTURE_MODEL_QUEUE%")] QueueMessage message, FunctionContext context)
        => Probe.RecordAsync($"model-{message.Body}", $"{message.MessageId}|{message.DequeueCount}", context.CancellationToken);

    [Function("QueueAlwaysFails")]
    public async Task QueueAlwaysFails([QueueTrigger("%FIXTURE_FAILING_QUEUE%")] string message, long dequeueCount, FunctionContext context)
    {
        await Probe.RecordAsync($"failing-{message}", dequeueCount.ToString(CultureInfo.InvariantCulture), context.CancellationToken);
        throw new InvalidOperationException($"Attempt {dequeueCount} at '{message}' fails on purpose.");
    }

    /// <summary>Listens on the failing queue's poison queue and fails too, as a poison handler does while its database is down.</summary>
    [Function("PoisonAlwaysFails")]
    public async Task PoisonAlwaysFails([QueueTrigger("%FIXTURE_FAILING_POISON_QUEUE%")] string message, long dequeueCount, FunctionContext context)
    {
        await Probe.RecordAsync($"poison-{message}", dequeueCount.ToString(CultureInfo.InvariantCulture), context.CancellationToken);
        throw new InvalidOperationException($"Poison attempt {dequeueCount} at '{message}' fails on purpose.");
    }

    /// <summary>A schedule a minute or more apart, so the host keeps its schedule status (the monitor).</summary>
    [Function("Daily")]
    public Task Daily([TimerTrigger("%FIXTURE_DAILY_SCHEDULE%", RunOnStartup = true)] TimerInfo timer, FunctionContext context)
        => Probe.RecordAsync("daily", timer.IsPastDue ? "past-due" : "on-time", context.CancellationToken);

    [Function("Tick")]
    public Task Tick([TimerTrigger("%FIXTURE_TIMER_SCHEDULE%")] TimerInfo timer, FunctionContext context)
        => Probe.RecordAsync("tick", timer.IsPastDue ? "past-due" : "on-time", context.CancellationToken);

    /// <summary>Holds its message until its invocation is cancelled, for the shutdown tests.</summary>
    [Function("QueueHoldsUntilCancelled")]
    public Task QueueHoldsUntilCancelled([QueueTrigger("%FIXTURE_HOLDING_QUEUE%")] string message, FunctionContext context)
        => HoldUntilCancelledAsync($"holding-{message}", context.CancellationToken);

    /// <summary>Runs until its invocation is cancelled, for the shutdown tests (disabled unless a test sets its schedule).</summary>
    [Function("TimerHoldsUntilCancelled")]
    public Task TimerHoldsUntilCancelled([TimerTrigger("%FIXTURE_HOLDING_SCHEDULE%")] TimerInfo timer, FunctionContext context)
        => HoldUntilCancelledAsync("holding-timer", context.CancellationToken);

    /// <summary>Records "started", waits for cancellation, records "cancelled" and ends cancelled.</summary>
    private static async Task HoldUntilCancelledAsync(string probe, CancellationToken cancellationToken)
    {
        await Probe.RecordAsync(probe, "started", cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Probe.RecordAsync(probe, "cancelled", CancellationToken.None);
            throw;
        }
    }
}
