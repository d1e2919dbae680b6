using Microsoft.AspNetCore.Http;

namespace Storefront.FunctionsHost.Http;

/// <summary>RFC 9457 problem responses for what the host itself refuses or fails.</summary>
internal static class Problems
{
    public static IResult Unauthorized() => Results.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "A valid function key is required.",
        detail: $"Send the key in the '{KeyAuthorization.HeaderName}' header or the '{KeyAuthorization.QueryName}' query parameter.");

    public static IResult FunctionFailed(string invocationId) => Results.Problem(
        statusCode: StatusCodes.Status500InternalServerError,
        title: "The function failed.",
        extensions: new Dictionary<string, object?> { ["invocationId"] = invocationId });

    public static IResult WorkerUnavailable() => Results.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "The function app is restarting; try again shortly.");

    public static IResult BadGateway(string invocationId) => Results.Problem(
        statusCode: StatusCodes.Status502BadGateway,
        title: "The function's response could not be read.",
        extensions: new Dictionary<string, object?> { ["invocationId"] = invocationId });
}
