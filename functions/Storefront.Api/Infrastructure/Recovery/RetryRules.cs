namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>The pure rules of retrying: how long to wait, and when to stop.</summary>
public static class RetryRules
{
    /// <summary>
    /// Exponential backoff from <paramref name="first"/>, capped at <paramref name="max"/>, with "equal jitter" (half fixed,
    /// half random), so that work failed by one outage does not come back all at the same instant.
    /// </summary>
    /// <param name="attempt">1 for the first retry.</param>
    /// <param name="random">A value in [0, 1).</param>
    public static TimeSpan Backoff(int attempt, TimeSpan first, TimeSpan max, double random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ceiling = Math.Min(first.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds((ceiling / 2) + (ceiling / 2 * Math.Clamp(random, 0, 1)));
    }

    /// <summary>Whether a run of failures that began at <paramref name="firstFailureAt"/> has used up its budget.</summary>
    public static bool BudgetSpent(DateTimeOffset? firstFailureAt, TimeSpan budget, DateTimeOffset now) =>
        firstFailureAt is { } since && now - since >= budget;
}
