using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Infrastructure;

/// <summary>The transactional outbox: a queue message written in the same transaction as the state it announces.</summary>
public static class Outbox
{
    /// <returns>The outbox row's id, to dispatch right after the commit.</returns>
    public static async Task<long> AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid? orderId, string queueName, string payload, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("INSERT INTO outbox (order_id, queue_name, payload) VALUES ($1, $2, $3) RETURNING id", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)orderId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queueName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload, NpgsqlDbType = NpgsqlDbType.Jsonb });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}

/// <summary>
/// Sends outbox messages to their queues and marks them dispatched. A message whose send fails stays
/// pending and is sent by the next sweep, so a storage outage delays work but never loses it.
/// </summary>
public sealed class OutboxDispatcher(NpgsqlDataSource dataSource, QueueSender queues, IOptions<RecoveryOptions> options, ILogger<OutboxDispatcher> logger)
{
    private const int BatchSize = 100;
    private const int MaxBatchesPerSweep = 20;

    /// <summary>
    /// Sends one message right after its transaction committed, waiting for storage at most the dispatch
    /// timeout; false when storage did not take it (the sweep sends it later).
    /// </summary>
    public async Task<bool> TryDispatchAsync(long outboxId, string queueName, string payload, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(options.Value.OutboxDispatchTimeout);
        try
        {
            await queues.SendAsync(queueName, payload, TimeSpan.Zero, budget.Token);
            await MarkDispatchedAsync([outboxId], budget.Token);
            return true;
        }
        catch (Exception exception)
        {
            // The message was committed with its state: whatever happens here, the sweep sends it, and the caller's answer stands.
            logger.LogWarning("Outbox message {OutboxId} stays pending for the sweep: {Error}", outboxId, exception.Message);
            return false;
        }
    }

    /// <summary>Sends pending messages older than the grace period, a bounded number per sweep.</summary>
    /// <returns>How many were sent.</returns>
    public async Task<int> DispatchPendingAsync(TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        var sent = 0;
        for (var batch = 0; batch < MaxBatchesPerSweep; batch++)
        {
            var pending = await ReadPendingAsync(gracePeriod, cancellationToken);
            var dispatched = new List<long>(pending.Count);
            foreach (var (id, queueName, payload) in pending)
            {
                await queues.SendAsync(queueName, payload, TimeSpan.Zero, cancellationToken);
                dispatched.Add(id);
            }

            await MarkDispatchedAsync(dispatched, cancellationToken);
            sent += dispatched.Count;
            if (pending.Count < BatchSize)
            {
                break;
            }
        }

        return sent;
    }

    private async Task<List<(long Id, string QueueName, string Payload)>> ReadPendingAsync(TimeSpan gracePeriod, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, queue_name, payload::text FROM outbox WHERE dispatched_at IS NULL AND created_at < now() - $1 ORDER BY created_at LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = gracePeriod });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var pending = new List<(long, string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
        }

        return pending;
    }

    private async Task MarkDispatchedAsync(List<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var command = dataSource.CreateCommand("UPDATE outbox SET dispatched_at = now() WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. ids] });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
