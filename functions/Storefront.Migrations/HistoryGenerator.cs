using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Storefront.Migrations;

/// <summary>What past sales to generate: about <paramref name="Lines"/> order lines over <paramref name="Days"/> days.</summary>
public sealed record HistoryOptions(int Lines, DateOnly From, int Days, string Prefix, int Seed = 42);

/// <summary>
/// Writes a realistic volume of past, confirmed orders for reports and benchmarks, fast: binary COPY of
/// orders and lines, deterministic for a given seed. A history already written under the same prefix is
/// left as it is, so running it twice changes nothing.
/// </summary>
public static class HistoryGenerator
{
    // The simulator's rates, so that generated prices look like ones the API would have charged.
    private static readonly (string Currency, decimal PerUsd, int Weight)[] Currencies = [("USD", 1m, 5), ("EUR", 0.92m, 3), ("GBP", 0.79m, 2)];
    private static readonly string[] Countries = ["NL", "DE", "BE", "FR", "US", "GB"];

    /// <returns>The lines written (0 when the history already existed).</returns>
    public static async Task<long> GenerateAsync(NpgsqlDataSource dataSource, HistoryOptions options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM orders WHERE idempotency_key = $1)", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Key(options.Prefix, 0) });
            if (await exists.ExecuteScalarAsync(cancellationToken) is true)
            {
                return 0;
            }
        }

        var products = await LoadProductsAsync(connection, cancellationToken);
        if (products.Count == 0)
        {
            throw new InvalidOperationException("No products: run 'seed' before 'seed-history'.");
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Orders first (lines reference them), then the very same lines again from the same seed.
        await using (var orderImport = await connection.BeginBinaryImportAsync(
            "COPY orders (id, idempotency_key, request_hash, customer_id, email, currency, total, status, ship_to_country, ship_to_postcode, " +
            "payment_id, payment_status, created_at, updated_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var order in Orders(options, products))
            {
                var key = Key(options.Prefix, order.Number);
                var customer = $"customer-{order.Number % 5000}";
                await orderImport.StartRowAsync(cancellationToken);
                await orderImport.WriteAsync(order.Id, NpgsqlDbType.Uuid, cancellationToken);
                await orderImport.WriteAsync(key, NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync(SHA256.HashData(Encoding.UTF8.GetBytes(key)), NpgsqlDbType.Bytea, cancellationToken);
                await orderImport.WriteAsync(customer, NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync($"{customer}@example.com", NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync(order.Currency, NpgsqlDbType.Char, cancellationToken);
                await orderImport.WriteAsync(order.Lines.Sum(l => l.Quantity * l.UnitPrice), NpgsqlDbType.Numeric, cancellationToken);
                await orderImport.WriteAsync("confirmed", NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync(order.Country, NpgsqlDbType.Char, cancellationToken);
                await orderImport.WriteAsync("1000AA", NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync($"pay_history_{order.Number}", NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync("authorized", NpgsqlDbType.Text, cancellationToken);
                await orderImport.WriteAsync(order.CreatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
                await orderImport.WriteAsync(order.CreatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            }

            await orderImport.CompleteAsync(cancellationToken);
        }

        long lines = 0;
        await using (var lineImport = await connection.BeginBinaryImportAsync(
            "COPY order_lines (order_id, line_no, sku, quantity, unit_price) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var order in Orders(options, products))
            {
                for (var i = 0; i < order.Lines.Length; i++)
                {
                    var line = order.Lines[i];
                    await lineImport.StartRowAsync(cancellationToken);
                    await lineImport.WriteAsync(order.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await lineImport.WriteAsync(i + 1, NpgsqlDbType.Integer, cancellationToken);
                    await lineImport.WriteAsync(line.Sku, NpgsqlDbType.Text, cancellationToken);
                    await lineImport.WriteAsync(line.Quantity, NpgsqlDbType.Integer, cancellationToken);
                    await lineImport.WriteAsync(line.UnitPrice, NpgsqlDbType.Numeric, cancellationToken);
                    lines++;
                }
            }

            await lineImport.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return lines;
    }

    private static string Key(string prefix, int number) => $"{prefix}-{number}";

    /// <summary>The generated orders, one at a time; the same sequence for the same options.</summary>
    private static IEnumerable<HistoricOrder> Orders(HistoryOptions options, List<(string Sku, decimal PriceUsd)> products)
    {
        var random = new Random(options.Seed);
        var start = options.From.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var totalWeight = Currencies.Sum(c => c.Weight);
        var remaining = options.Lines;
        for (var number = 0; remaining > 0; number++)
        {
            var pick = random.Next(totalWeight);
            var (currency, perUsd, _) = Currencies.First(c => (pick -= c.Weight) < 0);
            var lines = new HistoricLine[Math.Min(random.Next(1, 7), remaining)];
            for (var i = 0; i < lines.Length; i++)
            {
                var (sku, priceUsd) = products[random.Next(products.Count)];
                lines[i] = new HistoricLine(sku, random.Next(1, 6), Math.Round(priceUsd * perUsd, 2, MidpointRounding.AwayFromZero));
            }

            remaining -= lines.Length;
            var id = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(Key(options.Prefix, number)))[..16]);
            yield return new HistoricOrder(id, number, currency, start.AddSeconds(random.NextDouble() * options.Days * 86_400), Countries[random.Next(Countries.Length)], lines);
        }
    }

    private sealed record HistoricLine(string Sku, int Quantity, decimal UnitPrice);

    private sealed record HistoricOrder(Guid Id, int Number, string Currency, DateTime CreatedAt, string Country, HistoricLine[] Lines);

    private static async Task<List<(string Sku, decimal PriceUsd)>> LoadProductsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT sku, price_usd FROM products ORDER BY sku", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var products = new List<(string, decimal)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            products.Add((reader.GetString(0), reader.GetDecimal(1)));
        }

        return products;
    }
}
