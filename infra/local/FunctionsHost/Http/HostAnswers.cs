using Microsoft.AspNetCore.Http;

namespace Storefront.FunctionsHost.Http;

/// <summary>
/// What the host itself answers, as the real host does: a status code and no body (its
/// FunctionInvocationMiddleware returns UnauthorizedResult/NotFoundResult, its ExceptionMiddleware
/// sets 500, and YARP's forwarder sets 400/413/502 without content).
/// </summary>
internal static class HostAnswers
{
    public static void Write(HttpContext context, int statusCode)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = statusCode;
            context.Response.ContentLength = 0;
        }
    }

    public static IResult Status(int statusCode) => Results.StatusCode(statusCode);
}
