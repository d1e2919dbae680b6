namespace Storefront.Api.ExternalServices;

/// <summary>
/// A token bucket that bounds hedged attempts (or retries) to a fraction of primary calls (the scheme of gRPC's retry
/// throttling, A6): every primary call deposits <see cref="TokensPerCall"/>, every hedge withdraws one whole
/// token, and the bucket holds at most <see cref="Capacity"/>. Over any stretch of time hedges are then at most
/// <c>TokensPerCall</c> times the primary calls plus the capacity, so a saturated or failing dependency is not
/// sent extra load exactly when it can least take it.
/// </summary>
public sealed class HedgeBudget
{
    private readonly Lock _gate = new();
    private double _tokens;

    public HedgeBudget(double tokensPerCall, double capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokensPerCall);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        TokensPerCall = tokensPerCall;
        Capacity = capacity;
        _tokens = capacity;
    }

    public double TokensPerCall { get; }

    public double Capacity { get; }

    public void RecordPrimaryCall()
    {
        lock (_gate)
        {
            _tokens = Math.Min(Capacity, _tokens + TokensPerCall);
        }
    }

    /// <returns>Whether a hedge or retry may be sent now (and its token was taken).</returns>
    public bool TryTakeExtraAttempt()
    {
        lock (_gate)
        {
            if (_tokens < 1)
            {
                return false;
            }

            _tokens -= 1;
            return true;
        }
    }
}

/// <summary>Deposits into a client's <see cref="HedgeBudget"/> once per call, outside the hedging handler.</summary>
internal sealed class HedgeBudgetHandler(HedgeBudget budget) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        budget.RecordPrimaryCall();
        return base.SendAsync(request, cancellationToken);
    }
}
