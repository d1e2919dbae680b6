using Microsoft.Azure.Functions.Worker;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Orders;

/// <summary>The background functions of orders: the queue and its poison queue (the sweep is shared, in Recovery).</summary>
public sealed class OrderQueueFunctions(OrderProcessor processor, QueuedWorkRunner runner)
{
    [Function("ProcessOrder")]
    public Task ProcessOrder([QueueTrigger(OrderStore.QueueName)] string message, FunctionContext context) =>
        runner.RunAsync(processor, message, context.CancellationToken);

    [Function("RequeuePoisonedOrder")]
    public Task RequeuePoisonedOrder([QueueTrigger(OrderStore.QueueName + "-poison")] string message, FunctionContext context) =>
        runner.RequeuePoisonedAsync(OrderStore.QueueName, message, context.CancellationToken);
}
