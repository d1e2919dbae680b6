namespace Storefront.Api.ExternalServices;

/// <summary>
/// One external service's address and resilience settings, bound from <c>Services:{Name}</c>
/// (app settings <c>Services__Inventory__BaseUrl</c> and so on).
/// </summary>
public sealed class ServiceOptions
{
    public Uri? BaseUrl { get; set; }

    /// <summary>Everything one call may take, hedges and retries included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// What one attempt may take. Unset, it leaves room inside <see cref="Timeout"/> for the hedge (reads) or the
    /// retries (writes) to time out on their own: an attempt cut off by the total timeout instead reaches the
    /// circuit breaker as a cancellation, which it does not count, so a slow dependency would never open it.
    /// </summary>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>The hedges (reads) or retries (writes) allowed per primary call, over time (a token bucket, see HedgeBudget).</summary>
    public double HedgeBudgetRatio { get; set; } = 0.2;

    /// <summary>How many hedges or retries the budget allows in a burst.</summary>
    public double HedgeBudgetBurst { get; set; } = 10;

    /// <summary>Reads only: when to send a second, hedged request if the first has not answered.</summary>
    public TimeSpan HedgingDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Writes: retries of transient failures (with jittered exponential back-off).</summary>
    public int MaxRetries { get; set; } = 1;

    public double BreakerFailureRatio { get; set; } = 0.5;

    public int BreakerMinimumThroughput { get; set; } = 10;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}
