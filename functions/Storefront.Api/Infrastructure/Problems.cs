using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Storefront.Api.Infrastructure;

/// <summary>RFC 9457 problem responses shared by every feature, so errors look the same everywhere.</summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string title, IDictionary<string, string[]>? errors = null) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status400BadRequest,
            title: title,
            extensions: errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors });

    public static ProblemHttpResult BadRequest(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A 400 naming every field that is wrong, keyed by the field's name.</summary>
    public static ProblemHttpResult Invalid(IDictionary<string, string[]> errors) => BadRequest("The request is invalid.", errors);

    public static ProblemHttpResult NotFound(string title) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title);

    /// <summary>A dependency the answer cannot do without is down; the caller may retry shortly.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, string title)
    {
        context.Response.Headers.RetryAfter = "2";
        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: title);
    }
}
