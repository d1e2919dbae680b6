using System.Collections.Concurrent;
using Azure.Storage.Queues;

namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>Sends messages to the app's queues, now or after a delay (the message stays invisible until then).</summary>
public sealed class QueueSender(QueueServiceClient queues)
{
    private readonly ConcurrentDictionary<string, Task> _createdQueues = new(StringComparer.Ordinal);

    public async Task SendAsync(string queueName, string payload, TimeSpan delay, CancellationToken cancellationToken)
    {
        var queue = queues.GetQueueClient(queueName);
        await EnsureQueueAsync(queue, cancellationToken);
        await queue.SendMessageAsync(payload, visibilityTimeout: delay > TimeSpan.Zero ? delay : null, cancellationToken: cancellationToken);
    }

    // Queues are created by the infrastructure in Azure; locally the first send creates them. A failed
    // attempt is forgotten so that the next send tries again.
    private async Task EnsureQueueAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        var creation = _createdQueues.GetOrAdd(queue.Name, _ => queue.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None));
        try
        {
            await creation.WaitAsync(cancellationToken);
        }
        catch
        {
            _createdQueues.TryRemove(new KeyValuePair<string, Task>(queue.Name, creation));
            throw;
        }
    }
}
