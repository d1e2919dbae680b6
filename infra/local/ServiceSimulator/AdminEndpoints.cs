namespace Storefront.ServiceSimulator;

/// <summary>The admin API: settings, reset, call log, idempotency stores and accepted messages. Never delayed, faulted or logged.</summary>
internal sealed class AdminEndpoints(
    ServiceSettingsStore settings,
    RingLog<CallLogEntry> calls,
    InventoryLedger inventory,
    SimulatorOptions options,
    IdempotencyStore<PaymentRequest, PaymentResponse> payments,
    PaymentLedger ledger,
    IdempotencyStore<ShipmentRequest, ShipmentResponse> shipments,
    RingLog<RecordedMessage> messages)
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => TypedResults.Text("ok"));

        var admin = app.MapGroup("/admin");
        admin.MapGet("/services", () => TypedResults.Json(settings.Snapshot(), Json.DictionaryStringServiceSettings));
        admin.MapGet("/services/{service}", (string service) => WithService(service, index =>
            TypedResults.Json(settings.Get(index), Json.ServiceSettings)));
        admin.MapPut("/services/{service}", UpdateServiceAsync);
        admin.MapPost("/reset", () =>
        {
            Reset();
            return TypedResults.NoContent();
        });

        admin.MapGet("/calls", (string? service) => WithOptionalService(service, name =>
            TypedResults.Json(calls.Snapshot(name is null ? null : e => e.Service == name), Json.ListCallLogEntry)));
        admin.MapDelete("/calls", () =>
        {
            calls.Clear();
            return TypedResults.NoContent();
        });

        admin.MapGet("/reservations", (string? orderId) => TypedResults.Json(inventory.Reservations(orderId), Json.ListReservationRecord));
        admin.MapGet("/stock/{sku}", (string sku) => Rules.ProductNumber(sku, options.KnownProducts) is { } number
            ? TypedResults.Json(inventory.Stock(number), Json.StockRecord)
            : Problems.NotFound($"Unknown sku '{sku}'."));
        admin.MapPut("/stock/{sku}", SetStockAsync);

        admin.MapGet("/payments", (string? orderId) => TypedResults.Json(
            Select(payments, orderId, r => r.OrderId, PaymentRecord), Json.ListPaymentRecord));
        admin.MapGet("/payments/{idempotencyKey}", (string idempotencyKey) => payments.TryGet(idempotencyKey, out var entry)
            ? TypedResults.Json(PaymentRecord(idempotencyKey, entry), Json.PaymentRecord)
            : Problems.NotFound($"No payment with idempotency key '{idempotencyKey}'."));
        admin.MapGet("/shipments", (string? orderId) => TypedResults.Json(
            Select(shipments, orderId, r => r.OrderId, ShipmentRecord), Json.ListShipmentRecord));
        admin.MapGet("/shipments/{idempotencyKey}", (string idempotencyKey) => shipments.TryGet(idempotencyKey, out var entry)
            ? TypedResults.Json(ShipmentRecord(idempotencyKey, entry), Json.ShipmentRecord)
            : Problems.NotFound($"No shipment with idempotency key '{idempotencyKey}'."));

        admin.MapGet("/messages", (string? to) => TypedResults.Json(
            messages.Snapshot(to is null ? null : m => string.Equals(m.To, to, StringComparison.OrdinalIgnoreCase)), Json.ListRecordedMessage));
        admin.MapDelete("/messages", () =>
        {
            messages.Clear();
            return TypedResults.NoContent();
        });
    }

    /// <summary>Start-up settings for every service; empties the call log, both idempotency stores, the payment ledger, the reservations (stock back to its starting levels) and the message log.</summary>
    public void Reset()
    {
        settings.Reset();
        calls.Clear();
        inventory.Clear();
        payments.Clear();
        ledger.Clear();
        shipments.Clear();
        messages.Clear();
    }

    private async Task<IResult> UpdateServiceAsync(string service, HttpContext context)
    {
        var index = SimulatedServices.IndexOf(service);
        if (index < 0)
        {
            return UnknownService(service);
        }

        var (update, problem) = await ServiceEndpoints.ReadBodyAsync(context, Json.ServiceSettingsUpdate);
        if (update is null)
        {
            return problem!;
        }

        var updated = settings.Update(index, update, out var errors);
        return errors.Count > 0 ? Problems.Invalid(errors) : TypedResults.Json(updated, Json.ServiceSettings);
    }

    private async Task<IResult> SetStockAsync(string sku, HttpContext context)
    {
        if (Rules.ProductNumber(sku, options.KnownProducts) is not { } number)
        {
            return Problems.NotFound($"Unknown sku '{sku}'.");
        }

        var (setting, problem) = await ServiceEndpoints.ReadBodyAsync(context, Json.StockSetting);
        if (setting is null)
        {
            return problem!;
        }

        return setting.Starting is >= 0 and <= 1_000_000
            ? TypedResults.Json(inventory.SetStarting(number, setting.Starting.Value), Json.StockRecord)
            : Problems.Invalid(new() { ["starting"] = ["starting is 0 to 1000000."] });
    }

    private static IResult WithService(string service, Func<int, IResult> then) =>
        SimulatedServices.IndexOf(service) is var index and >= 0 ? then(index) : UnknownService(service);

    private static IResult WithOptionalService(string? service, Func<string?, IResult> then) => service is null
        ? then(null)
        : SimulatedServices.IndexOf(service) is var index and >= 0
            ? then(SimulatedServices.All[index])
            : Problems.BadRequest($"Unknown service '{service}'.", $"Expected one of {string.Join(", ", SimulatedServices.All)}.");

    private static IResult UnknownService(string service) =>
        Problems.NotFound($"Unknown service '{service}'; expected one of {string.Join(", ", SimulatedServices.All)}.");

    private static List<TRecord> Select<TRequest, TResponse, TRecord>(
        IdempotencyStore<TRequest, TResponse> store,
        string? orderId,
        Func<TRequest, string?> orderOf,
        Func<string, IdempotencyEntry<TRequest, TResponse>, TRecord> project) => store.Entries()
            .Where(pair => orderId is null || string.Equals(orderOf(pair.Value.Request), orderId, StringComparison.Ordinal))
            .OrderBy(pair => pair.Value.FirstSeenAt)
            .Select(pair => project(pair.Key, pair.Value))
            .ToList();

    private PaymentRecord PaymentRecord(string key, IdempotencyEntry<PaymentRequest, PaymentResponse> entry)
    {
        var account = ledger.Find(entry.Response.PaymentId);
        return new(key, entry.Charges, entry.Requests, entry.FirstSeenAt, entry.Request, entry.Response,
            account?.Status ?? entry.Response.Status, account?.Captures ?? 0, account?.Voids ?? 0);
    }

    private static ShipmentRecord ShipmentRecord(string key, IdempotencyEntry<ShipmentRequest, ShipmentResponse> entry) =>
        new(key, entry.Charges, entry.Requests, entry.FirstSeenAt, entry.Request, entry.Response);
}
