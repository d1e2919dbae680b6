using Npgsql;

namespace Storefront.Api.Infrastructure;

public static class Dependencies
{
    /// <summary>
    /// Whether an exception means an external service did not give a usable answer: an HTTP error, a
    /// resilience rejection (timeout, open circuit), or an unreadable body; not the caller going away.
    /// </summary>
    public static bool IsServiceFailure(Exception exception, CancellationToken request) =>
        !request.IsCancellationRequested
        && exception is HttpRequestException or Polly.ExecutionRejectedException or OperationCanceledException or TimeoutException or System.Text.Json.JsonException;

    /// <summary>
    /// Whether an exception means Postgres could not answer (down, timed out, pool exhausted), as opposed
    /// to the caller having gone away: the former is a 503 for the caller, the latter needs no answer.
    /// </summary>
    public static bool IsDatabaseFailure(Exception exception, CancellationToken request) =>
        !request.IsCancellationRequested
        && exception is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException;
}
