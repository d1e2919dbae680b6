using Microsoft.Azure.Functions.Worker;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Reports;

/// <summary>The background functions of reports: the queue and its poison queue (the sweep is shared, in Recovery).</summary>
public sealed class ReportQueueFunctions(ReportProcessor processor, QueuedWorkRunner runner)
{
    [Function("GenerateReport")]
    public Task GenerateReport([QueueTrigger(ReportStore.QueueName)] string message, FunctionContext context) =>
        runner.RunAsync(processor, message, context.CancellationToken);

    [Function("RequeuePoisonedReport")]
    public Task RequeuePoisonedReport([QueueTrigger(ReportStore.QueueName + "-poison")] string message, FunctionContext context) =>
        runner.RequeuePoisonedAsync(ReportStore.QueueName, message, context.CancellationToken);
}
