using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>
/// A table of queued work that the sweep watches: rows in <paramref name="UnfinishedStatuses"/> carry
/// <c>next_attempt_at</c>, <c>lease_expires_at</c> and are worked on from <paramref name="QueueName"/>.
/// Each feature registers its own.
/// </summary>
public sealed record StrandedWorkSource(string Table, string QueueName, string[] UnfinishedStatuses);

/// <summary>
/// Other work that a feature leaves to the sweep: a call that could not be made when it was due and is retried until
/// it succeeds or no longer matters. Each feature registers its own.
/// </summary>
public interface ISweepStep
{
    Task SweepAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The backstop that makes sure nothing accepted is stranded: unfinished work that is long overdue and held by no
/// live lease has lost its message (storage refused it, the worker died between steps, its poison handling could
/// not run), so it gets a new one; outbox messages that storage did not take at request time are sent; and the
/// features' own steps (<see cref="ISweepStep"/>) run.
/// </summary>
public sealed class StrandedWorkSweep(
    NpgsqlDataSource dataSource,
    QueueSender queues,
    OutboxDispatcher outbox,
    IEnumerable<StrandedWorkSource> sources,
    IEnumerable<ISweepStep> steps,
    IOptions<RecoveryOptions> options,
    ILogger<StrandedWorkSweep> logger)
{
    private const int MaxPerSweep = 500;

    /// <summary>Schedule from the app setting Recovery:SweepSchedule (every 30 s in the shipped settings).</summary>
    [Function("SweepStrandedWork")]
    public Task Run([TimerTrigger("%Recovery:SweepSchedule%")] TimerInfo timer, FunctionContext context) => SweepAsync(context.CancellationToken);

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        // First: the steps need the database and their services, not storage, so a storage outage does not hold them up.
        foreach (var step in steps)
        {
            await step.SweepAsync(cancellationToken);
        }

        foreach (var source in sources)
        {
            var ids = await TakeStrandedAsync(source, cancellationToken);
            foreach (var id in ids)
            {
                await queues.SendAsync(source.QueueName, new WorkMessage(id).ToJson(), TimeSpan.Zero, cancellationToken);
            }

            if (ids.Count > 0)
            {
                logger.LogWarning("Sweep: {Count} stranded {Table} rows sent a new message", ids.Count, source.Table);
            }
        }

        var dispatched = await outbox.DispatchPendingAsync(options.Value.OutboxGracePeriod, cancellationToken);
        if (dispatched > 0)
        {
            logger.LogInformation("Sweep: {Dispatched} outbox messages sent", dispatched);
        }
    }

    /// <summary>
    /// Marks stranded rows due again later in the same statement that picks them, so that concurrent sweeps and the
    /// next one leave them alone while their new message is on its way.
    /// </summary>
    private async Task<List<Guid>> TakeStrandedAsync(StrandedWorkSource source, CancellationToken cancellationToken)
    {
        // The table name is one of the app's own constants, never input.
        await using var command = dataSource.CreateCommand(
            $"""
            UPDATE {source.Table} SET next_attempt_at = now() + $1
            WHERE id IN (
                SELECT id FROM {source.Table}
                WHERE status = ANY($2) AND next_attempt_at < now() - $1 AND (lease_expires_at IS NULL OR lease_expires_at < now())
                ORDER BY next_attempt_at
                LIMIT $3
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = options.Value.StrandedAfter });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = source.UnfinishedStatuses });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxPerSweep });
        return await command.ReadIdsAsync(cancellationToken);
    }
}
