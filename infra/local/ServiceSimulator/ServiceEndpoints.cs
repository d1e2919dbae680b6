using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Storefront.ServiceSimulator;

/// <summary>The six simulated services. Each endpoint runs through <see cref="Simulation"/> (latency, faults, call log).</summary>
internal sealed class ServiceEndpoints(
    Simulation simulation,
    SimulatorOptions options,
    SimulatorClock clock,
    InventoryLedger inventory,
    IdempotencyStore<PaymentRequest, PaymentResponse> payments,
    PaymentLedger ledger,
    IdempotencyStore<ShipmentRequest, ShipmentResponse> shipments,
    RingLog<RecordedMessage> messages)
{
    public const int MaxIdempotencyKeyLength = 255;

    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    private static readonly int InventoryIndex = SimulatedServices.IndexOf(SimulatedServices.Inventory);
    private static readonly int ReviewsIndex = SimulatedServices.IndexOf(SimulatedServices.Reviews);
    private static readonly int FxIndex = SimulatedServices.IndexOf(SimulatedServices.Fx);
    private static readonly int PaymentsIndex = SimulatedServices.IndexOf(SimulatedServices.Payments);
    private static readonly int ShippingIndex = SimulatedServices.IndexOf(SimulatedServices.Shipping);
    private static readonly int NotificationsIndex = SimulatedServices.IndexOf(SimulatedServices.Notifications);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/stock/{sku}", context => simulation.RunAsync(context, InventoryIndex, Stock));
        app.MapPut("/reservations/{reservationId}", context => simulation.RunAsync(context, InventoryIndex, ReserveAsync));
        app.MapPost("/reservations/{reservationId}/commit", context => simulation.RunAsync(context, InventoryIndex, c => Settle(c, commit: true)));
        app.MapPost("/reservations/{reservationId}/release", context => simulation.RunAsync(context, InventoryIndex, c => Settle(c, commit: false)));
        app.MapGet("/reviews/{sku}/summary", context => simulation.RunAsync(context, ReviewsIndex, Reviews));
        app.MapGet("/rates", context => simulation.RunAsync(context, FxIndex, Rates));
        app.MapPost("/payments", context => simulation.RunAsync(context, PaymentsIndex, PayAsync));
        app.MapPost("/payments/{paymentId}/capture", context => simulation.RunAsync(context, PaymentsIndex, c => PaymentAction(c, "capture")));
        app.MapPost("/payments/{paymentId}/void", context => simulation.RunAsync(context, PaymentsIndex, c => PaymentAction(c, "void")));
        app.MapPost("/shipments", context => simulation.RunAsync(context, ShippingIndex, ShipAsync));
        app.MapPost("/messages", context => simulation.RunAsync(context, NotificationsIndex, NotifyAsync));
    }

    private ValueTask<IResult> Stock(HttpContext context)
    {
        var sku = context.Request.RouteValues["sku"] as string;
        return new(Rules.ProductNumber(sku, options.KnownProducts) is { } number
            ? TypedResults.Json(new StockLevel(sku!, inventory.Available(number), Rules.Warehouse(number)), Json.StockLevel)
            : Problems.NotFound($"Unknown sku '{sku}'."));
    }

    public const int MaxReservationLines = 100;
    public const int MaxReservationTtlSeconds = 86_400;
    public const int DefaultReservationTtlSeconds = 1_800;

    /// <summary>Holds every line or none (<c>409</c> with <c>shortSkus</c>); the reservation id makes a retry answer as the first call did.</summary>
    private async ValueTask<IResult> ReserveAsync(HttpContext context)
    {
        var reservationId = (string)context.Request.RouteValues["reservationId"]!;
        if (reservationId.Length > MaxIdempotencyKeyLength)
        {
            return Problems.BadRequest("The reservation id is too long.", $"At most {MaxIdempotencyKeyLength} characters.");
        }

        var (request, problem) = await ReadBodyAsync(context, Json.ReservationRequest);
        if (request is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Require(errors, "orderId", request.OrderId);
        if (request.Lines is not { Count: > 0 and <= MaxReservationLines } lines || lines.Any(l => l is not { Sku: not null, Quantity: > 0 and <= 1000 }))
        {
            errors["lines"] = [$"lines is 1 to {MaxReservationLines} items, each with a sku and a quantity of 1 to 1000."];
        }

        if (request.TtlSeconds is < 1 or > MaxReservationTtlSeconds)
        {
            errors["ttlSeconds"] = [$"ttlSeconds is 1 to {MaxReservationTtlSeconds}."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var unknown = request.Lines!.Where(l => Rules.ProductNumber(l!.Sku, options.KnownProducts) is null).Select(l => l!.Sku!).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
        {
            return ShortStock(unknown);
        }

        var outcome = inventory.Reserve(
            reservationId,
            request.OrderId!,
            [.. request.Lines!.Select(l => (Rules.ProductNumber(l!.Sku, options.KnownProducts)!.Value, l.Quantity!.Value))],
            TimeSpan.FromSeconds(request.TtlSeconds ?? DefaultReservationTtlSeconds));
        if (outcome.Full)
        {
            return Problems.StoreFull(SimulatedServices.Inventory);
        }

        if (outcome.Reservation is not { } reservation)
        {
            return ShortStock(outcome.ShortSkus);
        }

        if (outcome.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return TypedResults.Json(reservation, Json.ReservationRecord, statusCode: outcome.Replayed ? StatusCodes.Status200OK : StatusCodes.Status201Created);
    }

    private ValueTask<IResult> Settle(HttpContext context, bool commit)
    {
        var reservationId = (string)context.Request.RouteValues["reservationId"]!;
        return new(inventory.Settle(reservationId, commit) switch
        {
            null => Problems.NotFound($"No reservation '{reservationId}'."),
            ({ } record, false) => TypedResults.Json(record, Json.ReservationRecord),
            ({ } record, true) => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: $"A {record.Status} reservation cannot be {(commit ? "committed" : "released")}.",
                extensions: new Dictionary<string, object?> { ["status"] = record.Status }),
        });
    }

    private static IResult ShortStock(string[] skus) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Not enough stock for some lines.",
        extensions: new Dictionary<string, object?> { ["shortSkus"] = skus });

    private ValueTask<IResult> Reviews(HttpContext context)
    {
        var sku = context.Request.RouteValues["sku"] as string;
        return new(Rules.ProductNumber(sku, options.KnownProducts) is { } number
            ? TypedResults.Json(new ReviewSummary(sku!, Rules.ReviewAverage(number), Rules.ReviewCount(number)), Json.ReviewSummary)
            : Problems.NotFound($"Unknown sku '{sku}'."));
    }

    private ValueTask<IResult> Rates(HttpContext context)
    {
        var requested = context.Request.Query["base"].ToString();
        if (requested.Length > 0 && !string.Equals(requested, "USD", StringComparison.OrdinalIgnoreCase))
        {
            return new(Problems.BadRequest($"Unsupported base currency '{requested}'.", "Only base=USD is supported."));
        }

        var now = clock.UtcNow.UtcDateTime;
        var hour = new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
        return new(TypedResults.Json(new FxRates("USD", hour, Rules.UsdRates), Json.FxRates));
    }

    private ValueTask<IResult> PayAsync(HttpContext context) => IdempotentAsync(
        context,
        SimulatedServices.Payments,
        payments,
        Json.PaymentRequest,
        Json.PaymentResponse,
        request =>
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            Require(errors, "orderId", request.OrderId);
            Require(errors, "customerId", request.CustomerId);
            if (request.Amount is not > 0)
            {
                errors["amount"] = ["amount must be a number greater than 0."];
            }

            if (request.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetter))
            {
                errors["currency"] = ["currency must be a three-letter ISO 4217 code."];
            }

            return errors;
        },
        Rules.Payment,
        (_, payment) => ledger.Open(payment.PaymentId, payment.Status));

    /// <summary>Capture or void of an authorized payment, once per idempotency key; see <see cref="PaymentLedger"/>.</summary>
    private ValueTask<IResult> PaymentAction(HttpContext context, string action)
    {
        var paymentId = (string)context.Request.RouteValues["paymentId"]!;
        var key = context.Request.Headers[Simulation.IdempotencyKeyHeader].ToString();
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxIdempotencyKeyLength)
        {
            return new(Problems.BadRequest(
                $"The '{Simulation.IdempotencyKeyHeader}' header is required.",
                $"Send one non-blank key of at most {MaxIdempotencyKeyLength} characters."));
        }

        var outcome = ledger.Apply(paymentId, action, key);
        if (outcome.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return new(outcome.Result switch
        {
            PaymentActionResult.Done => TypedResults.Json(new PaymentStateResponse(paymentId, outcome.Status!), Json.PaymentStateResponse),
            PaymentActionResult.Unknown => Problems.NotFound($"No payment '{paymentId}'."),
            PaymentActionResult.Full => Problems.StoreFull(SimulatedServices.Payments),
            _ => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: $"A {outcome.Status} payment cannot be {(action == "capture" ? "captured" : "voided")}.",
                extensions: new Dictionary<string, object?> { ["status"] = outcome.Status }),
        });
    }

    private ValueTask<IResult> ShipAsync(HttpContext context) => IdempotentAsync(
        context,
        SimulatedServices.Shipping,
        shipments,
        Json.ShipmentRequest,
        Json.ShipmentResponse,
        request =>
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            Require(errors, "orderId", request.OrderId);
            Require(errors, "postcode", request.Postcode);
            if (request.Country is not { Length: 2 } country || !country.All(char.IsAsciiLetter))
            {
                errors["country"] = ["country must be a two-letter ISO 3166 code."];
            }

            if (request.Items is not { ValueKind: JsonValueKind.Array } items || items.GetArrayLength() == 0)
            {
                errors["items"] = ["items must be a non-empty array."];
            }

            return errors;
        },
        (key, request) =>
        {
            var (carrier, etaDays) = Rules.Carrier(request.Country!);
            return new ShipmentResponse(Rules.ShipmentId(key), carrier, etaDays);
        });

    private async ValueTask<IResult> NotifyAsync(HttpContext context)
    {
        var (request, problem) = await ReadBodyAsync(context, Json.MessageRequest);
        if (request is null)
        {
            return problem!;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Require(errors, "to", request.To);
        Require(errors, "template", request.Template);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var sequence = messages.Reserve();
        var messageId = $"msg_{sequence + 1:D8}";
        messages.Publish(sequence, new RecordedMessage(sequence, clock.UtcNow, messageId, request.To!, request.Template!, request.Data));
        return TypedResults.Json(new MessageAccepted(messageId), Json.MessageAccepted, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// Key check, replay of a stored key (even when the body differs), else validation and one stored, charged first result.
    /// Faults were applied before this runs, so a failed call never touches the store.
    /// </summary>
    private async ValueTask<IResult> IdempotentAsync<TRequest, TResponse>(
        HttpContext context,
        string service,
        IdempotencyStore<TRequest, TResponse> store,
        JsonTypeInfo<TRequest> requestInfo,
        JsonTypeInfo<TResponse> responseInfo,
        Func<TRequest, Dictionary<string, string[]>> validate,
        Func<string, TRequest, TResponse> respond,
        Action<string, TResponse>? onStored = null)
        where TRequest : class
    {
        var key = context.Request.Headers[Simulation.IdempotencyKeyHeader].ToString();
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxIdempotencyKeyLength)
        {
            return Problems.BadRequest(
                $"The '{Simulation.IdempotencyKeyHeader}' header is required.",
                $"Send one non-blank key of at most {MaxIdempotencyKeyLength} characters.");
        }

        if (store.TryReplay(key, out var existing))
        {
            return Replayed(context, existing.Response, responseInfo);
        }

        var (request, problem) = await ReadBodyAsync(context, requestInfo);
        if (request is null)
        {
            return problem!;
        }

        var errors = validate(request);
        if (errors.Count > 0)
        {
            return Problems.Invalid(errors);
        }

        var candidate = new IdempotencyEntry<TRequest, TResponse>(request, respond(key, request), clock.UtcNow);
        return store.TryAdd(key, candidate, out var stored) switch
        {
            StoreOutcome.Added => Stored(key, stored!.Response, responseInfo, onStored),
            StoreOutcome.Existing => Replayed(context, stored!.Response, responseInfo),
            _ => Problems.StoreFull(service),
        };
    }

    private static IResult Stored<TResponse>(string key, TResponse response, JsonTypeInfo<TResponse> responseInfo, Action<string, TResponse>? onStored)
    {
        onStored?.Invoke(key, response);
        return TypedResults.Json(response, responseInfo, statusCode: StatusCodes.Status201Created);
    }

    private static IResult Replayed<TResponse>(HttpContext context, TResponse response, JsonTypeInfo<TResponse> responseInfo)
    {
        context.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Json(response, responseInfo, statusCode: StatusCodes.Status201Created);
    }

    internal static async ValueTask<(T? Value, IResult? Problem)> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(context.Request.Body, typeInfo, context.RequestAborted);
            return value is null ? (null, Problems.BadRequest("The body must be a JSON object.")) : (value, null);
        }
        catch (JsonException exception)
        {
            return (null, Problems.BadRequest("The body is not valid JSON for this request.", exception.Message));
        }
        catch (BadHttpRequestException exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            return (null, TypedResults.Problem(statusCode: exception.StatusCode, title: "The request body could not be read.", detail: exception.Message));
        }
    }

    private static void Require(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = [$"{field} is required."];
        }
    }
}
