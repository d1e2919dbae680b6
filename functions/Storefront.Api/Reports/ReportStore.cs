using System.Globalization;
using System.Text.Json;
using Npgsql;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Reports;

/// <summary>Report rows in Postgres: queued with their outbox message, then claimed, completed or failed.</summary>
public sealed class ReportStore(NpgsqlDataSource dataSource)
{
    public const string QueueName = "reports";

    private const string Columns = "id, kind, status, from_date, to_date, currency, row_count, byte_count, failure_reason, created_at, completed_at";

    public async Task<(ReportView Report, long OutboxId)> InsertAsync(ValidReport report, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO reports (id, kind, from_date, to_date, currency) VALUES ($1, $2, $3, $4, $5) RETURNING {Columns}", connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = report.Kind });
        insert.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = report.From });
        insert.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = report.To });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = report.Currency });
        ReportView view;
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            view = Read(reader);
        }

        var outboxId = await Outbox.AddAsync(connection, transaction, null, QueueName, JsonSerializer.Serialize(new ReportMessage(id), JsonSerializerOptions.Web), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (view, outboxId);
    }

    public async Task<ReportView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM reports WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Marks the report running; a redelivered message of a report that was running starts it over.</summary>
    /// <returns>The report to generate, or null when it is finished or unknown.</returns>
    public async Task<ValidReport?> ClaimAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE reports SET status = 'running', started_at = now() WHERE id = $1 AND status IN ('queued', 'running') RETURNING kind, from_date, to_date, currency");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ValidReport(reader.GetString(0), reader.GetFieldValue<DateOnly>(1), reader.GetFieldValue<DateOnly>(2), reader.GetString(3))
            : null;
    }

    public Task CompleteAsync(Guid id, long rows, long bytes, string blobName, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync(
            "UPDATE reports SET status = 'ready', row_count = $2, byte_count = $3, blob_name = $4, failure_reason = NULL, completed_at = now() WHERE id = $1 AND status = 'running'",
            cancellationToken,
            id,
            rows,
            bytes,
            blobName);

    /// <summary>Keeps the last error of a failed attempt; the queue retries the report.</summary>
    public Task RecordFailureAsync(Guid id, string error, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("UPDATE reports SET failure_reason = $2 WHERE id = $1 AND status = 'running'", cancellationToken, id, DataSourceExtensions.BoundedError(error));

    public Task FailAsync(Guid id, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync(
            "UPDATE reports SET status = 'failed', completed_at = now(), failure_reason = 'Generation failed: ' || coalesce(failure_reason, 'unknown error') WHERE id = $1 AND status IN ('queued', 'running')",
            cancellationToken,
            id);

    private static ReportView Read(NpgsqlDataReader reader)
    {
        var id = reader.GetGuid(0);
        var status = reader.GetString(2);
        return new ReportView(
            id,
            reader.GetString(1),
            status,
            reader.GetFieldValue<DateOnly>(3).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            reader.GetFieldValue<DateOnly>(4).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            reader.GetString(5),
            reader.IsDBNull(6) ? null : reader.GetInt64(6),
            reader.IsDBNull(7) ? null : reader.GetInt64(7),
            reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.GetFieldValue<DateTimeOffset>(9),
            reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
            status == ReportStatus.Ready ? $"/api/reports/{id}/content" : null);
    }
}
