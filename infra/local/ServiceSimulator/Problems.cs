namespace Storefront.ServiceSimulator;

/// <summary>RFC 9457 problem responses (application/problem+json).</summary>
internal static class Problems
{
    public static IResult BadRequest(string title, string? detail = null) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    public static IResult Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid.");

    public static IResult NotFound(string title) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title);

    public static IResult Injected(string service, int status) => TypedResults.Problem(
        statusCode: status,
        title: "Simulated failure.",
        detail: $"The service simulator injected a fault into '{service}' (errorRate).");

    public static IResult HangBoundReached(string service) => TypedResults.Problem(
        statusCode: StatusCodes.Status504GatewayTimeout,
        title: "Simulated hang reached its bound.",
        detail: $"'{service}' hung (hangRate) until Simulator:MaxHangSeconds.");

    public static IResult ShuttingDown() =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The service simulator is shutting down.");

    public static IResult StoreFull(string service) => TypedResults.Problem(
        statusCode: StatusCodes.Status507InsufficientStorage,
        title: "The idempotency store is full.",
        detail: $"'{service}' holds Simulator:IdempotencyCapacity keys; POST /admin/reset clears it.");
}
