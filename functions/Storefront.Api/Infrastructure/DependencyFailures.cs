using System.Net;
using Npgsql;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// How a failure of a dependency (PostgreSQL, a service) is classified: the one place the app decides what is an outage
/// worth a 503 or a retry, what is a refusal, and what is the caller going away.
/// </summary>
public static class DependencyFailures
{
    /// <summary>
    /// Whether an exception means an external service did not give a usable answer: an HTTP error, a
    /// resilience rejection (timeout, open circuit), or an unreadable body; not the caller going away.
    /// </summary>
    public static bool IsServiceFailure(Exception exception, CancellationToken request) =>
        !request.IsCancellationRequested
        && exception is HttpRequestException or Polly.ExecutionRejectedException or OperationCanceledException or TimeoutException or System.Text.Json.JsonException;

    /// <summary>
    /// Whether an exception means Postgres could not answer (down, restarting, timed out, pool exhausted), as
    /// opposed to the caller having gone away or the statement itself being refused: only the former is an
    /// outage worth a 503 and a retry. A statement Postgres refuses (bad input, a constraint) is not.
    /// </summary>
    public static bool IsDatabaseFailure(Exception exception, CancellationToken request) =>
        !request.IsCancellationRequested
        && exception is NpgsqlException { IsTransient: true } or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException;

    /// <summary>
    /// Whether a command failed because the server had already ended the session it was sent on: a restart or a
    /// failover ends every session, and a pooled connection shows it only when it is next used. Another connection
    /// works as soon as the server does.
    /// </summary>
    public static bool IsClosedConnection(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown }
            or NpgsqlException { InnerException: IOException };

    /// <summary>
    /// Whether queued work failed for a reason that retrying cannot fix: a service refused the request itself
    /// (a 4xx other than 408 Request Timeout and 429 Too Many Requests).
    /// </summary>
    public static bool IsPermanentRefusal(Exception exception) =>
        exception is HttpRequestException { StatusCode: { } status }
        && (int)status is >= 400 and < 500
        && status is not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests;

    /// <summary>
    /// Whether queued work should be retried after this failure: anything but a permanent refusal and the host
    /// cancelling the invocation (shutdown, time limit; the lease then runs out and the work comes back).
    /// </summary>
    public static bool IsTransientFailure(Exception exception, CancellationToken invocation) =>
        !IsPermanentRefusal(exception) && !(exception is OperationCanceledException && invocation.IsCancellationRequested);
}
