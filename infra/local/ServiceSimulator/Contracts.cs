using System.Text.Json;
using System.Text.Json.Serialization;

namespace Storefront.ServiceSimulator;

/// <summary>The names of the six simulated services, as used in configuration, the admin API and the call log.</summary>
public static class SimulatedServices
{
    public const string Inventory = "inventory";
    public const string Reviews = "reviews";
    public const string Fx = "fx";
    public const string Payments = "payments";
    public const string Shipping = "shipping";
    public const string Notifications = "notifications";

    /// <summary>All six, in a fixed order (the order of <c>GET /admin/services</c>).</summary>
    public static IReadOnlyList<string> All { get; } = [Inventory, Reviews, Fx, Payments, Shipping, Notifications];

    internal static int IndexOf(string? name)
    {
        for (var i = 0; i < All.Count; i++)
        {
            if (string.Equals(All[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }
}

// --- Service contracts --------------------------------------------------------------------------------------------

/// <summary>Inventory: <c>GET /stock/{sku}</c>.</summary>
public sealed record StockLevel(string Sku, int Available, string Warehouse);

/// <summary>Reviews: <c>GET /reviews/{sku}/summary</c>.</summary>
public sealed record ReviewSummary(string Sku, decimal Average, int Count);

/// <summary>FX: <c>GET /rates?base=USD</c>. <see cref="AsOf"/> is the start of the current UTC hour.</summary>
public sealed record FxRates(string Base, DateTime AsOf, IReadOnlyDictionary<string, decimal> Rates);

/// <summary>Inventory: body of <c>PUT /reservations/{reservationId}</c>; <see cref="TtlSeconds"/> defaults to 1800.</summary>
public sealed record ReservationRequest(string? OrderId, IReadOnlyList<ReservationLineRequest?>? Lines, int? TtlSeconds);

public sealed record ReservationLineRequest(string? Sku, int? Quantity);

public sealed record ReservedLine(string Sku, int Quantity);

/// <summary>
/// Inventory: a reservation as <c>PUT /reservations/{id}</c>, <c>POST /reservations/{id}/commit</c> and <c>/release</c> answer it, and as
/// <c>GET /admin/reservations</c> lists it. <see cref="Status"/> is <c>held</c>, <c>committed</c>, <c>released</c> or <c>expired</c>.
/// </summary>
public sealed record ReservationRecord(
    string ReservationId,
    string OrderId,
    string Status,
    IReadOnlyList<ReservedLine> Lines,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? SettledAt);

/// <summary>Inventory admin: <c>GET /admin/stock/{sku}</c>; <see cref="Available"/> = starting less held less committed.</summary>
public sealed record StockRecord(string Sku, int Starting, int Held, int Committed, int Available);

/// <summary>Inventory admin: body of <c>PUT /admin/stock/{sku}</c>, the sku's new starting level.</summary>
public sealed record StockSetting(int? Starting);

/// <summary>Payments: body of <c>POST /payments</c> (fields nullable so that a bad request can be told apart).</summary>
public sealed record PaymentRequest(string? OrderId, string? CustomerId, decimal? Amount, string? Currency);

/// <summary>Payments: <c>201</c> body; <see cref="Status"/> is <c>authorized</c> or <c>declined</c> (then with a reason).</summary>
public sealed record PaymentResponse(
    string PaymentId,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

/// <summary>Payments: <c>200</c> body of <c>POST /payments/{paymentId}/capture</c> and <c>/void</c>; <see cref="Status"/> is <c>captured</c> or <c>voided</c>.</summary>
public sealed record PaymentStateResponse(string PaymentId, string Status);

/// <summary>Shipping: body of <c>POST /shipments</c>; <see cref="Items"/> is any non-empty JSON array.</summary>
public sealed record ShipmentRequest(string? OrderId, string? Country, string? Postcode, JsonElement? Items);

/// <summary>Shipping: <c>201</c> body.</summary>
public sealed record ShipmentResponse(string ShipmentId, string Carrier, int EtaDays);

/// <summary>Notifications: body of <c>POST /messages</c>.</summary>
public sealed record MessageRequest(string? To, string? Template, JsonElement? Data);

/// <summary>Notifications: <c>202</c> body.</summary>
public sealed record MessageAccepted(string MessageId);

// --- Admin API payloads -------------------------------------------------------------------------------------------

/// <summary>
/// Latency and fault injection of one service. Every call waits <see cref="LatencyMs"/> plus a uniform 0..<see cref="JitterMs"/>,
/// then hangs with probability <see cref="HangRate"/>, else fails with <see cref="ErrorStatus"/> with probability <see cref="ErrorRate"/>.
/// </summary>
public sealed record ServiceSettings(int LatencyMs, int JitterMs, double ErrorRate, int ErrorStatus, double HangRate)
{
    public const int MaxDelayMs = 300_000;

    public static ServiceSettings Default { get; } = new(0, 0, 0, 503, 0);

    /// <summary>Range violations keyed by camelCase field name; empty when valid.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (LatencyMs is < 0 or > MaxDelayMs)
        {
            errors["latencyMs"] = [$"latencyMs must be 0..{MaxDelayMs}."];
        }

        if (JitterMs is < 0 or > MaxDelayMs)
        {
            errors["jitterMs"] = [$"jitterMs must be 0..{MaxDelayMs}."];
        }

        if (!(ErrorRate is >= 0 and <= 1))
        {
            errors["errorRate"] = ["errorRate must be 0..1."];
        }

        if (ErrorStatus is < 400 or > 599)
        {
            errors["errorStatus"] = ["errorStatus must be 400..599."];
        }

        if (!(HangRate is >= 0 and <= 1))
        {
            errors["hangRate"] = ["hangRate must be 0..1."];
        }

        return errors;
    }

    /// <summary>This with the fields that <paramref name="update"/> sets replaced.</summary>
    public ServiceSettings With(ServiceSettingsUpdate update) => new(
        update.LatencyMs ?? LatencyMs,
        update.JitterMs ?? JitterMs,
        update.ErrorRate ?? ErrorRate,
        update.ErrorStatus ?? ErrorStatus,
        update.HangRate ?? HangRate);
}

/// <summary>Body of <c>PUT /admin/services/{service}</c>: every field optional; unknown fields are refused.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ServiceSettingsUpdate(
    int? LatencyMs = null,
    int? JitterMs = null,
    double? ErrorRate = null,
    int? ErrorStatus = null,
    double? HangRate = null);

/// <summary>
/// One simulated-service call. Timestamps come from a monotonic clock (100 ns resolution). <see cref="EndedAt"/> is taken when the
/// response is ready, just before it is written (so the entry is visible before the client has the response), or when the client
/// went away (<see cref="Status"/> 499). <see cref="Path"/> excludes the query string.
/// </summary>
public sealed record CallLogEntry(
    long Sequence,
    string Service,
    string Method,
    string Path,
    string? IdempotencyKey,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    int Status)
{
    [JsonIgnore]
    public TimeSpan Duration => EndedAt - StartedAt;
}

/// <summary><c>GET /admin/payments/{idempotencyKey}</c>: the stored first request and response of a key.</summary>
/// <param name="Charges">How many times the key was processed (authorized or declined): 1 for every stored key.</param>
/// <param name="Requests">How many calls carried the key and reached the store (first call plus replays).</param>
/// <param name="State">The payment now: <c>authorized</c>, <c>captured</c>, <c>voided</c> or <c>declined</c>.</param>
/// <param name="Captures">How many times it was captured (0 or 1).</param>
/// <param name="Voids">How many times it was voided (0 or 1).</param>
public sealed record PaymentRecord(
    string IdempotencyKey,
    int Charges,
    int Requests,
    DateTimeOffset FirstSeenAt,
    PaymentRequest Request,
    PaymentResponse Response,
    string State,
    int Captures,
    int Voids);

/// <summary><c>GET /admin/shipments/{idempotencyKey}</c>: as <see cref="PaymentRecord"/>.</summary>
public sealed record ShipmentRecord(
    string IdempotencyKey,
    int Charges,
    int Requests,
    DateTimeOffset FirstSeenAt,
    ShipmentRequest Request,
    ShipmentResponse Response);

/// <summary><c>GET /admin/messages</c>: an accepted notification.</summary>
public sealed record RecordedMessage(
    long Sequence,
    DateTimeOffset ReceivedAt,
    string MessageId,
    string To,
    string Template,
    JsonElement? Data);

/// <summary>
/// Source-generated JSON for every contract and admin payload (web defaults: camelCase, case-insensitive reads; timestamps as
/// <see cref="UtcTimestampConverter"/> writes them).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(StockLevel))]
[JsonSerializable(typeof(ReservationRequest))]
[JsonSerializable(typeof(ReservationRecord))]
[JsonSerializable(typeof(List<ReservationRecord>))]
[JsonSerializable(typeof(StockRecord))]
[JsonSerializable(typeof(StockSetting))]
[JsonSerializable(typeof(ReviewSummary))]
[JsonSerializable(typeof(FxRates))]
[JsonSerializable(typeof(PaymentRequest))]
[JsonSerializable(typeof(PaymentResponse))]
[JsonSerializable(typeof(PaymentStateResponse))]
[JsonSerializable(typeof(ShipmentRequest))]
[JsonSerializable(typeof(ShipmentResponse))]
[JsonSerializable(typeof(MessageRequest))]
[JsonSerializable(typeof(MessageAccepted))]
[JsonSerializable(typeof(ServiceSettings))]
[JsonSerializable(typeof(ServiceSettingsUpdate))]
[JsonSerializable(typeof(Dictionary<string, ServiceSettings>))]
[JsonSerializable(typeof(List<CallLogEntry>))]
[JsonSerializable(typeof(PaymentRecord))]
[JsonSerializable(typeof(List<PaymentRecord>))]
[JsonSerializable(typeof(ShipmentRecord))]
[JsonSerializable(typeof(List<ShipmentRecord>))]
[JsonSerializable(typeof(List<RecordedMessage>))]
public sealed partial class SimulatorJsonContext : JsonSerializerContext;
