using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Orders;

/// <summary>Orders over HTTP (function key required): accept fast, read status.</summary>
public sealed class OrderFunctions(OrderPlacement placement, OrderStore orders)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    [Function("PlaceOrder")]
    public async Task<Results<Accepted<OrderAccepted>, ProblemHttpResult>> PlaceOrder(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "orders")] HttpRequest request)
    {
        var key = request.Headers[IdempotencyKeyHeader].ToString();
        if (!OrderValidator.IsIdentifier(key))
        {
            return Problems.BadRequest(IdempotencyKeyHeader, "The Idempotency-Key header is required: 1 to 64 letters, digits, '-' or '_'.");
        }

        var body = await JsonBody.ReadAsync<PlaceOrderRequest>(request);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        var result = await placement.PlaceAsync(key, body.Value!, request.HttpContext.RequestAborted);
        switch (result)
        {
            case PlacementResult.Accepted accepted:
                request.HttpContext.Response.Headers.RetryAfter = "1";
                return TypedResults.Accepted($"/api/orders/{accepted.Answer.Id}", accepted.Answer);
            case PlacementResult.Invalid invalid:
                return Problems.BadRequest("The order is invalid.", invalid.Errors);
            case PlacementResult.InsufficientStock shortage:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "Not enough stock for some lines.",
                    extensions: new Dictionary<string, object?> { ["skus"] = shortage.Skus });
            case PlacementResult.KeyReused:
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status422UnprocessableEntity,
                    title: "This Idempotency-Key was already used for a different order.");
            case PlacementResult.DependencyUnavailable unavailable:
                return Problems.Unavailable(request.HttpContext, $"The {unavailable.Dependency} service is unavailable; retry with the same Idempotency-Key.");
            default:
                throw new InvalidOperationException($"Unhandled placement result {result}.");
        }
    }

    [Function("GetOrder")]
    public async Task<Results<Ok<OrderView>, ProblemHttpResult>> GetOrder(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "orders/{id}")] HttpRequest request,
        string id)
    {
        if (!Guid.TryParseExact(id, "D", out var orderId))
        {
            return Problems.BadRequest(nameof(id), "An order id is a UUID.");
        }

        return await orders.GetAsync(orderId, request.HttpContext.RequestAborted) is { } order
            ? TypedResults.Ok(order)
            : Problems.NotFound($"No order with id '{orderId}'.");
    }
}
