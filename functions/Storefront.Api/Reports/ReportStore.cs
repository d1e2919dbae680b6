using System.Globalization;
using Npgsql;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

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

        var outboxId = await Outbox.AddAsync(connection, transaction, null, QueueName, new WorkMessage(id).ToJson(), cancellationToken);
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

    /// <summary>Takes the lease on a report that is not finished and not leased by a live invocation; a report left running by a dead one starts over.</summary>
    public async Task<Claim<ReportJob>> ClaimAsync(Guid id, Guid leaseToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            UPDATE reports SET status = 'running', started_at = now(), lease_token = $2, lease_expires_at = now() + $3, attempts = attempts + 1
            WHERE id = $1 AND status IN ('queued', 'running') AND (lease_expires_at IS NULL OR lease_expires_at < now())
            RETURNING kind, from_date, to_date, currency, first_failure_at
            """)
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id }, new NpgsqlParameter<Guid> { TypedValue = leaseToken }, new NpgsqlParameter<TimeSpan> { TypedValue = lease } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT status IN ('queued', 'running'), greatest(lease_expires_at - now(), interval '0') FROM reports WHERE id = $1 AND lease_token IS DISTINCT FROM $2")
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id }, new NpgsqlParameter<Guid> { TypedValue = leaseToken } },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            var report = new ValidReport(reader.GetString(0), reader.GetFieldValue<DateOnly>(1), reader.GetFieldValue<DateOnly>(2), reader.GetString(3));
            return new Claim<ReportJob>.Taken(new ReportJob(id, report, reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
        }

        await reader.NextResultAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && reader.GetBoolean(0)
            ? new Claim<ReportJob>.Busy(reader.IsDBNull(1) ? TimeSpan.Zero : reader.GetFieldValue<TimeSpan>(1))
            : new Claim<ReportJob>.Done();
    }

    public Task<bool> RenewLeaseAsync(Guid id, Guid leaseToken, TimeSpan lease, CancellationToken cancellationToken) =>
        dataSource.RenewLeaseAsync("reports", id, leaseToken, lease, cancellationToken);

    public Task CompleteAsync(Guid id, Guid leaseToken, long rows, long bytes, string blobName, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            $"UPDATE reports SET status = 'ready', row_count = $3, byte_count = $4, blob_name = $5, {Released} WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            cancellationToken,
            rows,
            bytes,
            blobName);

    /// <summary>Gives the lease back after a transient failure: the report waits for <paramref name="delay"/>, keeping the error.</summary>
    public Task RecordRetryAsync(Guid id, Guid leaseToken, string reason, TimeSpan delay, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            """
            UPDATE reports SET lease_token = NULL, lease_expires_at = NULL, last_error = $3, next_attempt_at = now() + $4,
                   first_failure_at = coalesce(first_failure_at, now())
            WHERE id = $1 AND lease_token = $2 AND status = 'running'
            """,
            cancellationToken,
            reason,
            delay);

    /// <summary>Gives the lease back with no failure recorded: the report is due again after <paramref name="delay"/>.</summary>
    public Task DeferAsync(Guid id, Guid leaseToken, TimeSpan delay, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            "UPDATE reports SET lease_token = NULL, lease_expires_at = NULL, next_attempt_at = now() + $3 WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            cancellationToken,
            delay);

    public Task FailAsync(Guid id, Guid leaseToken, string reason, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            $"UPDATE reports SET status = 'failed', failure_reason = $3, {Released} WHERE id = $1 AND lease_token = $2 AND status = 'running'",
            cancellationToken,
            DataSourceExtensions.BoundedError("Generation failed: " + reason));

    /// <summary>What every transition to a final status also sets: no lease, nothing to wait for.</summary>
    private const string Released = "lease_token = NULL, lease_expires_at = NULL, completed_at = now()";


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
