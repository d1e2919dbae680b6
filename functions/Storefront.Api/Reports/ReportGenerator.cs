using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Npgsql;
using Storefront.Api.ExternalServices;

namespace Storefront.Api.Reports;

/// <summary>
/// Runs a report's aggregation in Postgres and streams its rows as CSV straight into a blob: a data
/// reader on one side, a block-blob write stream on the other, so memory stays flat whatever the size.
/// Amounts are converted to the report's currency at the current exchange rates (orders keep their own).
/// </summary>
public sealed class ReportGenerator(NpgsqlDataSource dataSource, BlobServiceClient blobs, FxRates fxRates)
{
    public const string ContainerName = "reports";

    private const string RatesCte = "WITH rates(currency, per_usd) AS (SELECT * FROM unnest($3::text[], $4::numeric[]))";

    private const string SalesByDaySql = RatesCte + """

        SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, count(DISTINCT o.id), sum(l.quantity),
               round(sum(l.quantity * l.unit_price / r.per_usd) * $5, 2)
        FROM orders o
        JOIN order_lines l ON l.order_id = o.id
        JOIN rates r ON r.currency = o.currency
        WHERE o.status = 'confirmed' AND o.created_at >= $1 AND o.created_at < $2
        GROUP BY 1
        ORDER BY 1
        """;

    private const string TopProductsSql = RatesCte + """

        SELECT l.sku, coalesce(p.name, ''), sum(l.quantity) AS units, count(DISTINCT o.id),
               round(sum(l.quantity * l.unit_price / r.per_usd) * $5, 2) AS revenue
        FROM orders o
        JOIN order_lines l ON l.order_id = o.id
        JOIN rates r ON r.currency = o.currency
        LEFT JOIN products p ON p.sku = l.sku
        WHERE o.status = 'confirmed' AND o.created_at >= $1 AND o.created_at < $2
        GROUP BY l.sku, p.name
        ORDER BY revenue DESC, l.sku
        """;

    /// <returns>The blob's name, the rows written (header excluded) and its size in bytes.</returns>
    public async Task<(string BlobName, long Rows, long Bytes)> GenerateAsync(Guid reportId, ValidReport report, CancellationToken cancellationToken)
    {
        var rates = await fxRates.GetAsync(cancellationToken);
        var perUsd = rates.Rates.Where(r => r.Key != FxRates.BaseCurrency).Append(new(FxRates.BaseCurrency, 1m)).ToArray();
        var targetRate = perUsd.First(r => r.Key == report.Currency).Value;

        var container = blobs.GetBlobContainerClient(ContainerName);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var blobName = $"{reportId}.csv";
        var blob = container.GetBlockBlobClient(blobName);

        await using var command = dataSource.CreateCommand(report.Kind == ReportKinds.SalesByDay ? SalesByDaySql : TopProductsSql);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = report.From.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = report.To.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. perUsd.Select(r => r.Key)] });
        command.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = [.. perUsd.Select(r => r.Value)] });
        command.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = targetRate });
        // No statement timeout from the request path applies here; a report may take minutes.
        command.CommandTimeout = 0;

        long rows = 0;
        var upload = new BlockBlobOpenWriteOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" } };
        await using (var blobStream = await blob.OpenWriteAsync(overwrite: true, upload, cancellationToken))
        await using (var csv = new StreamWriter(blobStream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 64 * 1024))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (report.Kind == ReportKinds.SalesByDay)
            {
                await csv.WriteLineAsync($"date,orders,units,revenue_{report.Currency.ToLowerInvariant()}");
                while (await reader.ReadAsync(cancellationToken))
                {
                    await csv.WriteLineAsync(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{reader.GetFieldValue<DateOnly>(0):yyyy-MM-dd},{reader.GetInt64(1)},{reader.GetInt64(2)},{reader.GetDecimal(3):0.00}"));
                    rows++;
                }
            }
            else
            {
                await csv.WriteLineAsync($"sku,name,units,orders,revenue_{report.Currency.ToLowerInvariant()}");
                while (await reader.ReadAsync(cancellationToken))
                {
                    await csv.WriteLineAsync(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{Csv(reader.GetString(0))},{Csv(reader.GetString(1))},{reader.GetInt64(2)},{reader.GetInt64(3)},{reader.GetDecimal(4):0.00}"));
                    rows++;
                }
            }
        }

        var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken);
        return (blobName, rows, properties.Value.ContentLength);
    }

    public Task<Stream> OpenReadAsync(Guid reportId, CancellationToken cancellationToken) =>
        blobs.GetBlobContainerClient(ContainerName).GetBlobClient($"{reportId}.csv").OpenReadAsync(cancellationToken: cancellationToken);

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, and its quotes doubled.</summary>
    private static string Csv(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
