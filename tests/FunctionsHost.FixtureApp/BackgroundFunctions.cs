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
}
