using Npgsql;
using NpgsqlTypes;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Catalog;

public sealed record ProductRow(string Sku, string Name, string Description, decimal PriceUsd);

/// <summary>Catalog reads from Postgres; every query is one round trip (two when it met a connection the server had closed).</summary>
public sealed class ProductStore(NpgsqlDataSource dataSource)
{
    public Task<ProductRow?> GetAsync(string sku, CancellationToken cancellationToken) =>
        dataSource.ReadAsync(token => ReadOneAsync(sku, token), cancellationToken);

    public Task<Dictionary<string, ProductRow>> GetManyAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken) =>
        dataSource.ReadAsync(token => ReadManyAsync(skus, token), cancellationToken);

    /// <summary>
    /// Keyset pagination by sku (the primary key), optionally filtered by a case-insensitive name prefix;
    /// reads one row more than asked to know whether another page follows.
    /// </summary>
    public Task<(IReadOnlyList<ProductRow> Rows, bool HasMore)> ListAsync(string? namePrefix, int limit, string? afterSku, CancellationToken cancellationToken) =>
        dataSource.ReadAsync(token => ReadPageAsync(namePrefix, limit, afterSku, token), cancellationToken);

    private async Task<ProductRow?> ReadOneAsync(string sku, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT sku, name, description, price_usd FROM products WHERE sku = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sku });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private async Task<Dictionary<string, ProductRow>> ReadManyAsync(IReadOnlyCollection<string> skus, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT sku, name, description, price_usd FROM products WHERE sku = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. skus] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new Dictionary<string, ProductRow>(skus.Count, StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = Read(reader);
            rows[row.Sku] = row;
        }

        return rows;
    }

    private async Task<(IReadOnlyList<ProductRow> Rows, bool HasMore)> ReadPageAsync(string? namePrefix, int limit, string? afterSku, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT sku, name, description, price_usd FROM products
            WHERE ($1::text IS NULL OR sku > $1)
              AND ($2::text IS NULL OR lower(name) LIKE $2)
            ORDER BY sku
            LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)afterSku ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = namePrefix is null ? DBNull.Value : EscapeLike(namePrefix.ToLowerInvariant()) + "%", NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit + 1 });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ProductRow>(limit + 1);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Read(reader));
        }

        var hasMore = rows.Count > limit;
        if (hasMore)
        {
            rows.RemoveAt(limit);
        }

        return (rows, hasMore);
    }

    private static ProductRow Read(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetDecimal(3));

    // The user's text is matched literally: LIKE's wildcards and its escape character lose their meaning.
    private static string EscapeLike(string value) =>
        value.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
