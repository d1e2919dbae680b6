using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>The outcome of trying to take the lease on a row.</summary>
public abstract record Claim<TItem>
{
    /// <summary>The lease is ours: work on the item.</summary>
    public sealed record Taken(TItem Item) : Claim<TItem>;

    /// <summary>The row is finished or unknown: nothing to do.</summary>
    public sealed record Done : Claim<TItem>;

    /// <summary>Another invocation holds the lease for this much longer.</summary>
    public sealed record Busy(TimeSpan LeaseLeft) : Claim<TItem>;
}

/// <summary>A write guarded by the lease token found that another invocation has taken the row over.</summary>
public sealed class LeaseLostException(Guid id) : Exception($"The lease on {id} was taken over by another invocation.");

/// <summary>
/// The work could not start within its time (its turn did not come) and has given its lease back, marked due after
/// <see cref="ComeBackAfter"/>: the invocation ends, and the item comes back on a new message then, neither failed nor
/// retried. An invocation that waited on would count against functionTimeout, and in Azure one past it has its worker
/// restarted, with every invocation on it.
/// </summary>
public sealed class WorkDeferredException(string reason, TimeSpan comeBackAfter) : Exception(reason)
{
    public TimeSpan ComeBackAfter { get; } = comeBackAfter;
}

public static class LeaseGuard
{
    /// <summary>
    /// Extends the lease on a row of <paramref name="table"/> (one of the app's own table names, never input); false
    /// when the token no longer holds it. Every final transition clears the token, so the token alone is the guard.
    /// </summary>
    public static async Task<bool> RenewLeaseAsync(this Npgsql.NpgsqlDataSource dataSource, string table, Guid id, Guid leaseToken, TimeSpan lease, CancellationToken cancellationToken) =>
        await dataSource.ExecuteAsync(
            $"UPDATE {table} SET lease_expires_at = now() + $3 WHERE id = $1 AND lease_token = $2", cancellationToken, id, leaseToken, lease) == 1;

    /// <summary>
    /// Runs a write that only the lease holder may make (<paramref name="sql"/> has <c>$1</c> the id and <c>$2</c> the lease
    /// token, then the other parameters); one row changed or <see cref="LeaseLostException"/>.
    /// </summary>
    public static async Task ExecuteUnderLeaseAsync(this Npgsql.NpgsqlDataSource dataSource, Guid id, Guid leaseToken, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        if (await dataSource.ExecuteAsync(sql, cancellationToken, [id, leaseToken, .. parameters]) != 1)
        {
            throw new LeaseLostException(id);
        }
    }
}

/// <summary>
/// One kind of queued work (an order to process, a report to generate) as <see cref="QueuedWorkRunner"/> drives it:
/// every method that writes is guarded by the lease token, and every step of <see cref="RunAsync"/> is safe to repeat.
/// </summary>
public interface IQueuedWork<TItem>
{
    string QueueName { get; }

    Task<Claim<TItem>> ClaimAsync(Guid id, Guid leaseToken, CancellationToken cancellationToken);

    /// <returns>False when the lease is no longer held by this token.</returns>
    Task<bool> RenewLeaseAsync(Guid id, Guid leaseToken, CancellationToken cancellationToken);

    /// <summary>Start of the item's current run of transient failures, if any.</summary>
    DateTimeOffset? FirstFailureAt(TItem item);

    /// <summary>
    /// Does the work; throws on failure, or <see cref="WorkDeferredException"/> when it cannot start in time (its lease
    /// given back first).
    /// <paramref name="progress"/> names the step, for the waiting reason.
    /// </summary>
    Task RunAsync(TItem item, Guid leaseToken, WorkProgress progress, CancellationToken cancellationToken);

    /// <summary>Ends the item as failed for <paramref name="reason"/>, undoing what must be undone (the decision is kept first, so a retry resumes it).</summary>
    Task FailAsync(TItem item, Guid leaseToken, string reason, CancellationToken cancellationToken);

    /// <summary>Gives the lease back and records why and until when the item waits.</summary>
    Task RecordRetryAsync(Guid id, Guid leaseToken, string reason, TimeSpan delay, CancellationToken cancellationToken);
}

/// <summary>The step queued work is on, so that a failure can say where it happened.</summary>
public sealed class WorkProgress
{
    public string Step { get; set; } = "starting";
}

/// <summary>
/// Drives queued work through transient failures: a failure that retrying can fix is retried after a growing,
/// jittered delay (a new delayed message, not the queue's dequeue count) until the retry budget is spent; a refusal
/// that retrying cannot fix fails the work at once. The queue's own retries and poison queue are left for the case
/// where neither the database nor storage can record the retry.
/// </summary>
public sealed class QueuedWorkRunner(QueueSender sender, IOptions<RecoveryOptions> options, TimeProvider time, ILogger<QueuedWorkRunner> logger)
{
    public async Task RunAsync<TItem>(IQueuedWork<TItem> work, string messageText, CancellationToken cancellationToken)
    {
        // An unreadable message can never succeed: the queue's retries take it to the poison queue, where it is kept.
        var message = WorkMessage.TryParse(messageText)
            ?? throw new InvalidOperationException($"The message is not a {work.QueueName} message: {WorkMessage.ForLog(messageText)}");

        var leaseToken = Guid.NewGuid();
        Claim<TItem> claim;
        try
        {
            claim = await work.ClaimAsync(message.Id, leaseToken, cancellationToken);
        }
        catch (Exception exception) when (DependencyFailures.IsTransientFailure(exception, cancellationToken))
        {
            await RetryLaterAsync(work, message, leaseToken: null, $"waiting for the database: {exception.Message}", cancellationToken);
            return;
        }

        switch (claim)
        {
            case Claim<TItem>.Done:
                logger.LogInformation("{Queue} item {Id} is finished or unknown; nothing to do", work.QueueName, message.Id);
                return;
            case Claim<TItem>.Busy busy:
                // Another invocation is on it; come back when its lease would have run out, in case it died.
                await sender.SendAsync(work.QueueName, message.ToJson(), busy.LeaseLeft + TimeSpan.FromSeconds(1), cancellationToken);
                return;
        }

        var item = ((Claim<TItem>.Taken)claim).Item;
        var progress = new WorkProgress();
        string failure;
        await using (LeaseKeeper.Start(token => work.RenewLeaseAsync(message.Id, leaseToken, token), options.Value.Lease, logger, message.Id))
        {
            try
            {
                await work.RunAsync(item, leaseToken, progress, cancellationToken);
                return;
            }
            catch (LeaseLostException)
            {
                logger.LogWarning("{Queue} item {Id}: another invocation took it over while {Step}; leaving it to that one", work.QueueName, message.Id, progress.Step);
                return;
            }
            catch (WorkDeferredException deferred)
            {
                // The message keeps its attempt count: a deferral is neither a failure nor a retry.
                logger.LogInformation("{Queue} item {Id} deferred while {Step} ({Reason}); it comes back in {Delay}", work.QueueName, message.Id, progress.Step, deferred.Message, deferred.ComeBackAfter);
                await sender.SendAsync(work.QueueName, message.ToJson(), deferred.ComeBackAfter, cancellationToken);
                return;
            }
            catch (Exception exception) when (DependencyFailures.IsPermanentRefusal(exception))
            {
                failure = $"{progress.Step}: {exception.Message}";
            }
            catch (Exception exception) when (DependencyFailures.IsTransientFailure(exception, cancellationToken))
            {
                var reason = $"{progress.Step}: {exception.Message}";
                if (!RetryRules.BudgetSpent(work.FirstFailureAt(item), options.Value.RetryBudget, time.GetUtcNow()))
                {
                    await RetryLaterAsync(work, message, leaseToken, reason, cancellationToken);
                    return;
                }

                failure = $"gave up after retrying for {options.Value.RetryBudget}: {reason}";
            }

            try
            {
                logger.LogWarning("{Queue} item {Id} fails: {Reason}", work.QueueName, message.Id, failure);
                await work.FailAsync(item, leaseToken, failure, cancellationToken);
            }
            catch (LeaseLostException)
            {
                logger.LogWarning("{Queue} item {Id}: another invocation took it over while it was failing", work.QueueName, message.Id);
            }
            catch (Exception exception) when (DependencyFailures.IsTransientFailure(exception, cancellationToken))
            {
                // The decision to fail was recorded first; the next attempt finishes undoing the work.
                await RetryLaterAsync(work, message, leaseToken, $"failing ({failure}); {exception.Message}", cancellationToken);
            }
        }
    }

    /// <summary>
    /// A message that came through the poison queue (its work could record no retry, not even the next delayed
    /// message) is sent back to the work queue after a backoff, a bounded number of times; past that only the sweep,
    /// which reads the work's state from the database, sends it a new message.
    /// </summary>
    public async Task RequeuePoisonedAsync(string queueName, string messageText, CancellationToken cancellationToken)
    {
        if (WorkMessage.TryParse(messageText) is not { } message)
        {
            logger.LogError("A poison message of {Queue} is not a work message and is dropped: {Message}", queueName, WorkMessage.ForLog(messageText));
            return;
        }

        if (message.PoisonRequeues >= options.Value.MaxPoisonRequeues)
        {
            logger.LogError("{Queue} item {Id} came through the poison queue {Count} times; the sweep will send it a new message", queueName, message.Id, message.PoisonRequeues);
            return;
        }

        var next = message with { Attempt = message.Attempt + 1, PoisonRequeues = message.PoisonRequeues + 1 };
        await sender.SendAsync(queueName, next.ToJson(), Backoff(next.Attempt), cancellationToken);
        logger.LogWarning("{Queue} item {Id} came back from the poison queue; retried after a backoff", queueName, message.Id);
    }

    private async Task RetryLaterAsync<TItem>(IQueuedWork<TItem> work, WorkMessage message, Guid? leaseToken, string reason, CancellationToken cancellationToken)
    {
        var next = message with { Attempt = message.Attempt + 1 };
        if (next.Attempt > options.Value.MaxMessageAttempts)
        {
            logger.LogError("{Queue} item {Id} rescheduled itself {Count} times; the sweep will revive it: {Reason}", work.QueueName, message.Id, message.Attempt, reason);
            return;
        }

        var delay = Backoff(next.Attempt);
        logger.LogWarning("{Queue} item {Id} retries in {Delay}: {Reason}", work.QueueName, message.Id, delay, reason);
        if (leaseToken is { } token)
        {
            try
            {
                await work.RecordRetryAsync(message.Id, token, DataSourceExtensions.BoundedError(reason), delay, cancellationToken);
            }
            catch (Exception exception) when (DependencyFailures.IsTransientFailure(exception, cancellationToken))
            {
                // The lease runs out by itself; the delayed message below is what brings the work back.
                logger.LogWarning("{Queue} item {Id}: could not record the retry: {Error}", work.QueueName, message.Id, exception.Message);
            }
        }

        // When storage refuses this too, the exception makes the queue redeliver the current message.
        await sender.SendAsync(work.QueueName, next.ToJson(), delay, cancellationToken);
    }

    private TimeSpan Backoff(int attempt) =>
        RetryRules.Backoff(attempt, options.Value.FirstBackoff, options.Value.MaxBackoff, Random.Shared.NextDouble());
}
