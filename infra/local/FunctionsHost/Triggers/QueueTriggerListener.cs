using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;
using Storefront.FunctionsHost.Worker;

namespace Storefront.FunctionsHost.Triggers;

/// <summary>
/// Polls one queue for one queue-triggered function with the Storage Queues extension's semantics:
/// batches of batchSize, a new batch once in-flight work drops to newBatchThreshold, randomized
/// exponential back-off up to maxPollingInterval while the queue is empty, delete on success,
/// release after visibilityTimeout on failure, and poison after maxDequeueCount. A queue whose name
/// ends in "-poison" (or is too long for the suffix) has no poison queue: a failed message is not
/// released but stays invisible for the rest of its receive lease, and a message past maxDequeueCount
/// is left alone, so it keeps coming back once per lease until its time-to-live ends it
/// (QueueListenerFactory.CreatePoisonQueueReference, QueueProcessor.CompleteProcessingMessageAsync).
/// </summary>
internal sealed class QueueTriggerListener : IAsyncDisposable
{
    /// <summary>How long a fetched message stays hidden; renewed at half-time while the function runs.</summary>
    private static readonly TimeSpan ProcessingVisibility = TimeSpan.FromMinutes(10);

    private readonly FunctionDescriptor _function;
    private readonly QueueOptions _options;
    private readonly WorkerSupervisor _supervisor;
    private readonly ILogger _logger;
    private readonly QueueClient _queue;
    private const string PoisonSuffix = "-poison";
    private const int MaxQueueNameLength = 63;

    /// <summary>Null for a queue that gets no poison queue.</summary>
    private readonly QueueClient? _poisonQueue;

    /// <summary>The poison queue through a client that does not encode: undecodable messages move there as they came.</summary>
    private readonly QueueClient? _rawPoisonQueue;
    private readonly SemaphoreSlim _capacity;

    /// <summary>Ends polling and cancels running invocations.</summary>
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _inFlightGate = new();
    private readonly HashSet<Task> _inFlight = [];
    private Task _polling = Task.CompletedTask;

    public QueueTriggerListener(FunctionDescriptor function, AppSettings settings, HostJson hostJson, WorkerSupervisor supervisor, ILogger logger)
    {
        _function = function;
        _options = hostJson.Queues;
        _supervisor = supervisor;
        _logger = logger;
        QueueName = settings.Resolve(function.Property("queueName") ?? throw new InvalidOperationException($"{function.Name}: queueTrigger without queueName."));
        var clientOptions = new QueueClientOptions
        {
            MessageEncoding = _options.Base64Encoding ? QueueMessageEncoding.Base64 : QueueMessageEncoding.None,
        };
        clientOptions.MessageDecodingFailed += OnMessageDecodingFailedAsync;
        var connectionString = settings.StorageConnectionString(function.Property("connection"));
        var service = new QueueServiceClient(connectionString, clientOptions);
        _queue = service.GetQueueClient(QueueName);
        if (HasPoisonQueue(QueueName))
        {
            _poisonQueue = service.GetQueueClient(QueueName + PoisonSuffix);
            _rawPoisonQueue = new QueueServiceClient(connectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None })
                .GetQueueClient(QueueName + PoisonSuffix);
        }

        // At most batchSize + newBatchThreshold messages are held at once, as in the real listener.
        _capacity = new SemaphoreSlim(_options.BatchSize + _options.EffectiveNewBatchThreshold);
    }

    public string QueueName { get; }

    internal static bool HasPoisonQueue(string queueName) =>
        !queueName.EndsWith(PoisonSuffix, StringComparison.OrdinalIgnoreCase) && queueName.Length + PoisonSuffix.Length <= MaxQueueNameLength;

    public void Start() => _polling = PollAsync(_stopping.Token);

    /// <summary>
    /// Stops polling and cancels running invocations (InvocationCancel), as the real listener's stop does outside drain
    /// mode, then waits up to the grace period for their answers. A cancelled invocation ends like a failed one: its
    /// message is released, or moved to poison on its last dequeue; so does one that does not answer, when the worker is
    /// ended under it.
    /// </summary>
    public async Task StopAsync(TimeSpan gracePeriod)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _polling.ConfigureAwait(false);
        if (!await AllEndedWithinAsync(gracePeriod).ConfigureAwait(false))
        {
            _logger.LogWarning("{Count} cancelled invocations on {Queue} did not answer within {GracePeriod}", InFlightCount, QueueName, gracePeriod);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> AllEndedWithinAsync(TimeSpan within)
    {
        try
        {
            await Task.WhenAll(InFlightSnapshot()).WaitAsync(within).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task PollAsync(CancellationToken stopping)
    {
        var delay = QueueOptions.MinimumPollingInterval;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Fetch a new batch only once in-flight work has drained to the threshold.
                while (InFlightCount > _options.EffectiveNewBatchThreshold)
                {
                    await Task.WhenAny(InFlightSnapshot()).WaitAsync(stopping).ConfigureAwait(false);
                }

                var messages = await ReceiveAsync(stopping).ConfigureAwait(false);
                if (messages.Length == 0)
                {
                    await Task.Delay(delay, stopping).ConfigureAwait(false);
                    delay = NextBackOff(delay);
                    continue;
                }

                delay = QueueOptions.MinimumPollingInterval;
                foreach (var message in messages)
                {
                    await _capacity.WaitAsync(stopping).ConfigureAwait(false);
                    Track(ProcessAsync(message));
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException exception)
            {
                _logger.LogWarning("Polling queue {Queue} failed ({Status} {Code}); backing off", QueueName, exception.Status, exception.ErrorCode);
                await DelayQuietlyAsync(delay, stopping).ConfigureAwait(false);
                delay = NextBackOff(delay);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or AggregateException)
            {
                _logger.LogWarning("Storage is unreachable while polling {Queue}: {Error}; backing off", QueueName, exception.Message);
                await DelayQuietlyAsync(delay, stopping).ConfigureAwait(false);
                delay = NextBackOff(delay);
            }
        }
    }

    private async Task<QueueMessage[]> ReceiveAsync(CancellationToken stopping)
    {
        try
        {
            var response = await _queue.ReceiveMessagesAsync(_options.BatchSize, ProcessingVisibility, stopping).ConfigureAwait(false);
            return response.Value;
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // The real listener treats a missing queue as an empty one.
            return [];
        }
    }

    private async Task ProcessAsync(QueueMessage message)
    {
        try
        {
            if (message.DequeueCount > _options.MaxDequeueCount)
            {
                // Already failed too often (e.g. the worker died every time before we could count it); without a
                // poison queue the message is neither run nor touched and returns when its lease ends.
                await MoveToPoisonAsync(message.MessageId, message.PopReceipt, message.Body.ToString()).ConfigureAwait(false);
                return;
            }

            var receipt = new PopReceiptHolder(message.PopReceipt);
            using var renewal = new CancellationTokenSource();
            var renewing = RenewVisibilityAsync(message.MessageId, receipt, renewal.Token);
            bool succeeded;
            try
            {
                succeeded = await InvokeAsync(message).ConfigureAwait(false);
            }
            finally
            {
                await renewal.CancelAsync().ConfigureAwait(false);
                await renewing.ConfigureAwait(false);
            }

            if (succeeded)
            {
                await _queue.DeleteMessageAsync(message.MessageId, receipt.Value, CancellationToken.None).ConfigureAwait(false);
            }
            else if (_poisonQueue is null)
            {
                // Not released: it stays invisible for the rest of its lease, so a failing poison handler is not retried in a fast loop.
                _logger.LogWarning("Message {MessageId} on {Queue} failed; a queue without a poison queue leaves it invisible until its lease ends", message.MessageId, QueueName);
            }
            else if (message.DequeueCount >= _options.MaxDequeueCount)
            {
                await MoveToPoisonAsync(message.MessageId, receipt.Value, message.Body.ToString()).ConfigureAwait(false);
            }
            else
            {
                await _queue.UpdateMessageAsync(message.MessageId, receipt.Value, visibilityTimeout: _options.VisibilityTimeout, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is RequestFailedException or HttpRequestException or IOException or AggregateException)
        {
            // The message becomes visible again when its lease runs out and is retried then.
            _logger.LogWarning("Completing message {MessageId} on {Queue} failed: {Error}", message.MessageId, QueueName, exception.Message);
        }
        finally
        {
            _capacity.Release();
        }
    }

    private async Task<bool> InvokeAsync(QueueMessage message)
    {
        var facts = new QueueMessageFacts(
            message.MessageId,
            message.PopReceipt,
            message.Body.ToString(),
            message.DequeueCount,
            message.InsertedOn ?? DateTimeOffset.UtcNow,
            message.ExpiresOn ?? DateTimeOffset.MaxValue,
            message.NextVisibleOn ?? DateTimeOffset.UtcNow);
        var request = Invocations.ForQueueMessage(_function, facts);
        try
        {
            var worker = await _supervisor.GetWorkerAsync(_stopping.Token).ConfigureAwait(false);
            var response = await worker.InvokeAsync(request, _stopping.Token).ConfigureAwait(false);
            if (response.Result?.Status == StatusResult.Types.Status.Success)
            {
                return true;
            }

            _logger.LogWarning(
                "{Function} failed on message {MessageId} (dequeue count {DequeueCount}): {Error}",
                _function.Name, message.MessageId, message.DequeueCount, response.Result?.Exception?.Message);
            return false;
        }
        catch (Exception exception) when (exception is WorkerUnavailableException or OperationCanceledException)
        {
            _logger.LogWarning("{Function} could not complete message {MessageId}: {Error}", _function.Name, message.MessageId, exception.Message);
            return false;
        }
    }

    private async Task RenewVisibilityAsync(string messageId, PopReceiptHolder receipt, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ProcessingVisibility / 2, done).ConfigureAwait(false);
                var updated = await _queue.UpdateMessageAsync(messageId, receipt.Value, visibilityTimeout: ProcessingVisibility, cancellationToken: done).ConfigureAwait(false);
                receipt.Value = updated.Value.PopReceipt;
            }
        }
        catch (OperationCanceledException)
        {
            // The invocation finished.
        }
        catch (RequestFailedException exception)
        {
            _logger.LogWarning("Renewing message {MessageId} on {Queue} failed: {Error}", messageId, QueueName, exception.Message);
        }
    }

    private async Task MoveToPoisonAsync(string messageId, string popReceipt, string text)
    {
        if (_poisonQueue is null)
        {
            _logger.LogWarning("Message {MessageId} on {Queue} is past maxDequeueCount; {Queue} has no poison queue, so it stays until its time-to-live", messageId, QueueName, QueueName);
            return;
        }

        await _poisonQueue.CreateIfNotExistsAsync().ConfigureAwait(false);
        await _poisonQueue.SendMessageAsync(text).ConfigureAwait(false);
        await _queue.DeleteMessageAsync(messageId, popReceipt).ConfigureAwait(false);
        _logger.LogWarning("Message {MessageId} has reached MaxDequeueCount of {Max}; moved to {PoisonQueue}", messageId, _options.MaxDequeueCount, _poisonQueue.Name);
    }

    /// <summary>A message whose body is not valid base64 can never be processed: poison at once, as it came.</summary>
    private async Task OnMessageDecodingFailedAsync(QueueMessageDecodingFailedEventArgs args)
    {
        if (args.ReceivedMessage is not { } received)
        {
            return;
        }

        if (_rawPoisonQueue is null)
        {
            _logger.LogWarning("Message {MessageId} on {Queue} is not valid base64; {Queue} has no poison queue, so it stays until its time-to-live", received.MessageId, QueueName, QueueName);
            return;
        }

        await _rawPoisonQueue.CreateIfNotExistsAsync().ConfigureAwait(false);
        await _rawPoisonQueue.SendMessageAsync(received.Body.ToString()).ConfigureAwait(false);
        await _queue.DeleteMessageAsync(received.MessageId, received.PopReceipt).ConfigureAwait(false);
        _logger.LogWarning("Message {MessageId} on {Queue} is not valid base64; moved to {PoisonQueue} unchanged", received.MessageId, QueueName, _rawPoisonQueue.Name);
    }

    private int InFlightCount
    {
        get
        {
            lock (_inFlightGate)
            {
                return _inFlight.Count;
            }
        }
    }

    private Task[] InFlightSnapshot()
    {
        lock (_inFlightGate)
        {
            return [.. _inFlight];
        }
    }

    private void Track(Task task)
    {
        lock (_inFlightGate)
        {
            _inFlight.Add(task);
        }

        _ = task.ContinueWith(
            completed =>
            {
                lock (_inFlightGate)
                {
                    _inFlight.Remove(completed);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private TimeSpan NextBackOff(TimeSpan current)
    {
        // Randomized exponential back-off, as the extension's RandomizedExponentialBackoffStrategy.
        var doubled = current.TotalMilliseconds * (1.6 + (Random.Shared.NextDouble() * 0.8));
        return TimeSpan.FromMilliseconds(Math.Min(doubled, _options.MaxPollingInterval.TotalMilliseconds));
    }

    private static async Task DelayQuietlyAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private sealed class PopReceiptHolder(string value)
    {
        public string Value { get; set; } = value;
    }
}
