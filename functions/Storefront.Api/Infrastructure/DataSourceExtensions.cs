using Npgsql;

namespace Storefront.Api.Infrastructure;

public static class DataSourceExtensions
{
    /// <summary>Error texts kept in the database are cut to a bound: an exception message can be arbitrarily long.</summary>
    public static string BoundedError(string text) => text.Length <= 2000 ? text : text[..2000];

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
