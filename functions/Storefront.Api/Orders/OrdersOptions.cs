namespace Storefront.Api.Orders;

/// <summary>Order processing settings, bound from <c>Orders:*</c>.</summary>
public sealed class OrdersOptions
{
    public const string Section = "Orders";

    /// <summary>
    /// How long one invocation owns an order; a lease left behind by a crashed invocation is taken over
    /// (and the order re-queued by the sweep) once it has run out. Longer than the slowest processing.
    /// </summary>
    public TimeSpan ProcessingLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How old a pending outbox message must be before the sweep sends it (the request path sends it first).</summary>
    public TimeSpan OutboxGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many order lines check their stock at the same time.</summary>
    public int StockCheckConcurrency { get; set; } = 8;
}
