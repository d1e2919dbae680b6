namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>How queued work (orders, reports) retries, holds its lease and is found again; bound from <c>Recovery:*</c>.</summary>
public sealed class RecoveryOptions
{
    public const string Section = "Recovery";

    /// <summary>
    /// How long work keeps retrying transient failures (a dependency down, a timeout) before it fails for good.
    /// Longer than a managed PostgreSQL failover or planned maintenance (one to two minutes) with room to spare.
    /// </summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>First retry delay; each further retry doubles it, up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an invocation owns a row without renewing it. The owner renews it every third of this, so a
    /// crashed worker's work is taken over within this time, not after the slowest possible processing.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long past its due time unfinished work may go unclaimed before the sweep decides its message is lost
    /// (storage refused it, or its poison handling could not run) and sends a new one. A duplicate is harmless.
    /// </summary>
    public TimeSpan StrandedAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a request (an order, a report) waits for storage to take its outbox message before leaving it to the sweep.</summary>
    public TimeSpan OutboxDispatchTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How old a pending outbox message must be before the sweep sends it (the request path sends it first).</summary>
    public TimeSpan OutboxGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a message may come back through its poison queue before only the sweep may revive its work.</summary>
    public int MaxPoisonRequeues { get; set; } = 20;

    /// <summary>
    /// How many delayed messages one piece of work may send itself: enough to last the retry budget (each backoff is at
    /// least half of <see cref="MaxBackoff"/> once grown). Past it, with the database unreachable so that the budget
    /// cannot be judged, the work stops rescheduling itself and the sweep revives it once the database is back.
    /// </summary>
    public int MaxMessageAttempts => (int)Math.Ceiling(RetryBudget / (MaxBackoff / 2)) + 20;

    internal bool IsValid() =>
        RetryBudget > TimeSpan.Zero && FirstBackoff > TimeSpan.Zero && MaxBackoff >= FirstBackoff && MaxBackoff <= TimeSpan.FromHours(1)
        && Lease >= TimeSpan.FromSeconds(3) && StrandedAfter > TimeSpan.Zero && OutboxDispatchTimeout > TimeSpan.Zero && OutboxGracePeriod >= TimeSpan.Zero && MaxPoisonRequeues is >= 0 and <= 1000;
}
