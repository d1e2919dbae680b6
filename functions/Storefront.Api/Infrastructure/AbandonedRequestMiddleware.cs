using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// A request whose client went away is not a failed invocation. Its function ends on the cancellation that the host
/// passes on (or on the request body it can no longer read), and nobody is left to answer. Logged as an error with a
/// stack trace, every abandoned request (a phone losing signal, a load generator ending its run) would count against
/// the app's failure rate. So the invocation ends quietly: one Information line, and <c>499 Client Closed Request</c>
/// as the answer nobody reads. The worker cannot tell a client that left from the host ending the request itself (a
/// function timeout, a shutdown); the host logs those on its side. Queue-triggered functions are left alone: their
/// failures decide whether a message is retried.
/// </summary>
public sealed partial class AbandonedRequestMiddleware(ILogger<AbandonedRequestMiddleware> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>The status nginx introduced for a client that closed its connection before the answer.</summary>
    private const int ClientClosedRequest = 499;

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException
            && context.GetHttpContext() is { RequestAborted.IsCancellationRequested: true } http)
        {
            LogAbandoned(logger, context.FunctionDefinition.Name, exception.GetType().Name);
            context.GetInvocationResult().Value = http.Response.HasStarted ? Results.Empty : Results.StatusCode(ClientClosedRequest);
        }
    }

    [LoggerMessage(LogLevel.Information, "{Function} ended early: its request was aborted, the client gone or the host ending it ({Exception})")]
    private static partial void LogAbandoned(ILogger logger, string function, string exception);
}
