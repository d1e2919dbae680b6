using Npgsql;

namespace Storefront.Migrations;

/// <summary>
/// Inserts the demo catalogue SKU-00001..SKU-nnnnn. Every value is a function of the product number,
/// and existing SKUs are skipped, so running it again changes nothing.
/// </summary>
public static class DemoDataSeeder
{
    // One set-based statement: 10,000 rows take milliseconds and need no round trip per row.
    // Prices walk 1.00..999.99 in steps of 79.19; 7919 is coprime with 99900, so no two of the first 99,900 SKUs share one.
    private const string SeedProductsSql = """
        INSERT INTO products (sku, name, description, price_usd, created_at, updated_at)
        SELECT 'SKU-' || lpad(n::text, 5, '0'),
               adjective || ' ' || noun || ' ' || n,
               'Demo product ' || n || ': a ' || lower(adjective) || ' ' || lower(noun) || ' for the storefront sample.',
               (100 + (n::bigint * 7919) % 99900) / 100.0,
               timestamptz '2025-01-01 00:00:00+00',
               timestamptz '2025-01-01 00:00:00+00'
        FROM generate_series(1, @count) AS n
        CROSS JOIN LATERAL (
            SELECT (ARRAY['Classic', 'Compact', 'Deluxe', 'Eco', 'Heavy-Duty',
                          'Mini', 'Pro', 'Smart', 'Travel', 'Vintage'])[1 + n % 10] AS adjective,
                   (ARRAY['Backpack', 'Blender', 'Desk Lamp', 'Headphones', 'Kettle', 'Notebook',
                          'Sneakers', 'Umbrella', 'Water Bottle', 'Watch', 'Mug', 'Speaker'])[1 + (n / 10) % 12] AS noun
        ) AS words
        ON CONFLICT (sku) DO NOTHING
        """;

    /// <returns>The number of products inserted (0 when all already existed).</returns>
    public static async Task<int> SeedProductsAsync(NpgsqlDataSource dataSource, int count, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SeedProductsSql);
        command.Parameters.AddWithValue("count", count);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
