using Npgsql;

namespace Storefront.Api.Infrastructure;

public static class Dependencies
{
    /// <summary>
    /// Whether an exception means Postgres could not answer (down, timed out, pool exhausted), as opposed
    /// to the caller having gone away: the former is a 503 for the caller, the latter needs no answer.
    /// </summary>
    public static bool IsDatabaseFailure(Exception exception, CancellationToken request) =>
        !request.IsCancellationRequested
        && exception is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException;
}
