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

/// <summary>
/// The life of an order, in one place. Every transition is one SQL statement guarded by the state it leaves (and, once
/// processing, by the lease of the invocation making it), so a late or duplicate message can never move an order back.
/// <code>
/// accepted   --claim--------------------------------------------------&gt; processing
/// processing --transient failure: lease given back, retried later------&gt; processing (waitingReason, nextAttemptAt)
/// processing --payment declined; stock released------------------------&gt; rejected
/// processing --shipment booked, stock committed, payment captured------&gt; confirmed
/// processing --refused, or retry budget spent; payment voided, stock released--&gt; failed
/// </code>
/// A payment goes <see cref="PaymentStatus"/> authorized, then captured or voided (or is declined); a reservation
/// goes <see cref="ReservationStatus"/> held, then committed or released.
/// </summary>
public static class OrderStatus
{
    public const string Accepted = "accepted";
    public const string Processing = "processing";
    public const string Confirmed = "confirmed";
    public const string Rejected = "rejected";
    public const string Failed = "failed";
}

public static class PaymentStatus
{
    public const string Authorized = "authorized";
    public const string Declined = "declined";
    public const string Captured = "captured";
    public const string Voided = "voided";
}

public static class ReservationStatus
{
    public const string Held = "held";
    public const string Committed = "committed";
    public const string Released = "released";
}
