namespace Storefront.Api.Orders;

public sealed record PlaceOrderRequest(string? CustomerId, string? Email, string? Currency, IReadOnlyList<OrderLineRequest?>? Lines, ShipToRequest? ShipTo);

public sealed record OrderLineRequest(string? Sku, int? Quantity);

public sealed record ShipToRequest(string? Country, string? Postcode);

/// <summary>The 202 answer of POST /api/orders, replayed as is for a repeated idempotency key.</summary>
public sealed record OrderAccepted(Guid Id, string Status, decimal Total, string Currency, DateTimeOffset CreatedAt);

public sealed record OrderView(
    Guid Id,
    string Status,
    string CustomerId,
    string Currency,
    decimal Total,
    IReadOnlyList<OrderLineView> Lines,
    PaymentView? Payment,
    ShipmentView? Shipment,
    string? FailureReason,
    int Attempts,
    string? WaitingReason,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record OrderLineView(string Sku, int Quantity, decimal UnitPrice);

/// <summary>The order's payment: <c>authorized</c>, then <c>captured</c> on confirmation or <c>voided</c> on failure; or <c>declined</c>.</summary>
public sealed record PaymentView(string Id, string Status);

public sealed record ShipmentView(string Id, string Carrier, int EtaDays);

/// <summary>A validated order, with normalized fields (upper-case codes, trimmed text).</summary>
public sealed record ValidOrder(string CustomerId, string Email, string Currency, IReadOnlyList<ValidLine> Lines, string Country, string Postcode);

public sealed record ValidLine(string Sku, int Quantity);

public static class OrderStatus
{
    public const string Accepted = "accepted";
    public const string Processing = "processing";
    public const string Confirmed = "confirmed";
    public const string Rejected = "rejected";
    public const string Failed = "failed";
}
