using Microsoft.Azure.Functions.Worker;

namespace Storefront.Api.Orders;

/// <summary>The background functions of orders: the queue, its poison queue, and the sweep.</summary>
public sealed class OrderQueueFunctions(OrderProcessor processor)
{
    [Function("ProcessOrder")]
    public Task ProcessOrder([QueueTrigger(OrderStore.QueueName)] string message, FunctionContext context) =>
        processor.ProcessAsync(message, context.CancellationToken);

    [Function("FailPoisonedOrder")]
    public Task FailPoisonedOrder([QueueTrigger(OrderStore.QueueName + "-poison")] string message, FunctionContext context) =>
        processor.FailAsync(message, context.CancellationToken);

    /// <summary>Schedule from the app setting Orders:SweepSchedule (every 30 s in the shipped settings).</summary>
    [Function("SweepOrders")]
    public Task SweepOrders([TimerTrigger("%Orders:SweepSchedule%")] TimerInfo timer, FunctionContext context) =>
        processor.SweepAsync(context.CancellationToken);
}
