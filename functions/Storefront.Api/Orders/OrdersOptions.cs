namespace Storefront.Api.Orders;

/// <summary>Order settings, bound from <c>Orders:*</c> (retries and leases are in <c>Recovery:*</c>).</summary>
public sealed class OrdersOptions
{
    public const string Section = "Orders";

    /// <summary>How many order lines check their stock at the same time.</summary>
    public int StockCheckConcurrency { get; set; } = 8;
}
