namespace Storefront.Api.Orders;

/// <summary>Order settings, bound from <c>Orders:*</c> (retries and leases are in <c>Recovery:*</c>).</summary>
public sealed class OrdersOptions
{
    public const string Section = "Orders";

    /// <summary>
    /// How long an order's stock reservation holds unless committed or released: longer than the retry budget
    /// (Recovery:RetryBudget) with room for a queue backlog, so that only orders never stored lose theirs this way.
    /// </summary>
    public TimeSpan ReservationTtl { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long after an unaccepted order's release was not confirmed the sweep tries it again, and again after each
    /// failure: longer than a reservation call may take (Services:Inventory), so that a call still on its way has
    /// landed by then.
    /// </summary>
    public TimeSpan ReleaseRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}
