using Npgsql;

namespace Storefront.Api.Infrastructure;

public static class DataSourceExtensions
{
    /// <summary>Runs a command that returns one uuid column (an UPDATE ... RETURNING id) and reads every row.</summary>
    public static async Task<List<Guid>> ReadIdsAsync(this NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>Error texts kept in the database are cut to a bound: an exception message can be arbitrarily long.</summary>
    public static string BoundedError(string text) => text.Length <= 2000 ? text : text[..2000];

    /// <summary>
    /// Opens <paramref name="connections"/> physical connections at once and returns them to the pool, so the first
    /// requests find them open: Npgsql opens connections only on demand (Minimum Pool Size only limits pruning), and
    /// a burst on an empty pool pays a connection set-up per request at the same time.
    /// </summary>
    /// <returns>How many connections were opened.</returns>
    public static async Task<int> WarmUpAsync(this NpgsqlDataSource dataSource, int connections, CancellationToken cancellationToken)
    {
        var opening = Enumerable.Range(0, connections).Select(_ => dataSource.OpenConnectionAsync(cancellationToken).AsTask()).ToArray();
        try
        {
            await Task.WhenAll(opening);
        }
        finally
        {
            // Back to the pool (not closed): each one that opened, whether or not the others did.
            foreach (var open in opening.Where(t => t.IsCompletedSuccessfully))
            {
                await (await open).DisposeAsync();
            }
        }

        return connections;
    }

    /// <summary>
    /// Runs a read; when it met a pooled connection that the server had already closed
    /// (<see cref="DependencyFailures.IsClosedConnection"/>), empties the pool, whose other idle connections were closed
    /// with it, and reads once more on a new connection. Npgsql hands out idle connections without checking them, so
    /// after a restart or failover the first command fails (Npgsql then empties the pool itself when the server said
    /// it was shutting down, not when the socket just broke); a read need not show that to its caller. Reads only: a
    /// write that may have run is never sent twice.
    /// </summary>
    public static async Task<T> ReadAsync<T>(this NpgsqlDataSource dataSource, Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        try
        {
            return await read(cancellationToken);
        }
        catch (Exception exception) when (DependencyFailures.IsClosedConnection(exception) && !cancellationToken.IsCancellationRequested)
        {
            dataSource.Clear();
            return await read(cancellationToken);
        }
    }

    /// <summary>One statement with positional parameters ($1, $2, ...); returns the rows affected.</summary>
    public static async Task<int> ExecuteAsync(this NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
