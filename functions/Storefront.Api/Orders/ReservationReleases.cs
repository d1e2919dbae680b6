using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Orders;

/// <summary>
/// Gives back the stock of orders that were reserved but never stored. The release is tried at once, without holding
/// up the answer for long; when inventory does not confirm it (refused, timed out, circuit open), or does not know the
/// reservation while the reservation call's outcome is unknown (that call may still land), it is owed: written to
/// <c>reservation_releases</c> and tried again by the sweep until inventory confirms it or the hold has expired by
/// itself. Without that, a burst or a blip would keep the units from sale for the whole reservation TTL. A retry of the
/// same request (its idempotency key) that finds its stock short settles them first (<see cref="SettleEarlierAttemptsAsync"/>).
/// </summary>
public sealed class ReservationReleases(
    NpgsqlDataSource dataSource,
    ReservationsClient reservations,
    IOptions<OrdersOptions> options,
    ILogger<ReservationReleases> logger) : ISweepStep
{
    private const int MaxPerSweep = 100;
    private const int MaxPerKey = 10;
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(2);

    /// <param name="orderId">The order, and so the reservation's id.</param>
    /// <param name="idempotencyKey">The key of the request that reserved it.</param>
    /// <param name="reservationOutcomeKnown">Whether the reservation call answered (held or short); false when it failed or timed out.</param>
    public async Task ReleaseAsync(Guid orderId, string idempotencyKey, bool reservationOutcomeKnown)
    {
        string reason;
        try
        {
            if (await TryReleaseAsync(orderId, CancellationToken.None) || reservationOutcomeKnown)
            {
                return;
            }

            reason = "inventory does not know it yet";
        }
        catch (Exception exception)
        {
            reason = exception.Message;
        }

        try
        {
            await OweAsync(orderId, idempotencyKey);
            logger.LogWarning("The release of unaccepted order {OrderId}'s reservation is left to the sweep: {Reason}", orderId, reason);
        }
        catch (Exception exception)
        {
            logger.LogWarning("The reservation of unaccepted order {OrderId} is left to expire: {Reason}; {Error}", orderId, reason, exception.Message);
        }
    }

    /// <summary>
    /// Tries now the releases owed by earlier attempts of the request with this key, due or not, and forgets those
    /// inventory confirms.
    /// </summary>
    /// <returns>Whether any was confirmed: units they held may be for sale again.</returns>
    public async Task<bool> SettleEarlierAttemptsAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        List<Guid> owed;
        await using (var command = dataSource.CreateCommand("SELECT reservation_id FROM reservation_releases WHERE idempotency_key = $1 LIMIT $2"))
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idempotencyKey });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxPerKey });
            owed = await command.ReadIdsAsync(cancellationToken);
        }

        var confirmed = await Task.WhenAll(owed.Select(async reservationId =>
        {
            try
            {
                // Unknown to inventory: the earlier reservation call has not landed (or never will); the sweep sees to it.
                return await TryReleaseAsync(reservationId, cancellationToken) ? reservationId : (Guid?)null;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("The release of reservation {ReservationId} stays owed: {Error}", reservationId, exception.Message);
                return null;
            }
        }));
        var released = confirmed.OfType<Guid>().ToArray();
        if (released.Length > 0)
        {
            await ForgetAsync(released, cancellationToken);
        }

        return released.Length > 0;
    }

    /// <summary>Tries the releases that are due, a bounded number per sweep, and forgets those that no longer matter.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        // Expired holds have given their units back by themselves; an order stored after all (its insert failed in a way
        // that left its outcome unknown) keeps its hold, which its processing settles.
        await using (var moot = dataSource.CreateCommand(
            "DELETE FROM reservation_releases r WHERE r.expires_at < now() OR EXISTS (SELECT 1 FROM orders o WHERE o.id = r.reservation_id)"))
        {
            await moot.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var reservationId in await TakeDueAsync(cancellationToken))
        {
            try
            {
                // Known or not: a reservation call ends within seconds, so one that has not landed by now never will.
                await TryReleaseAsync(reservationId, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("The release of reservation {ReservationId} stays owed: {Error}", reservationId, exception.Message);
                continue;
            }

            await ForgetAsync([reservationId], cancellationToken);
        }
    }

    private async Task ForgetAsync(Guid[] reservationIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM reservation_releases WHERE reservation_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = reservationIds });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> TryReleaseAsync(Guid reservationId, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(ReleaseTimeout);
        return await reservations.ReleaseAsync(reservationId, bound.Token);
    }

    private async Task OweAsync(Guid reservationId, string idempotencyKey)
    {
        using var bound = new CancellationTokenSource(ReleaseTimeout);
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO reservation_releases (reservation_id, idempotency_key, next_attempt_at, expires_at)
            VALUES ($1, $4, now() + $2, now() + $3)
            ON CONFLICT (reservation_id) DO NOTHING
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = reservationId });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = options.Value.ReleaseRetryDelay });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = options.Value.ReservationTtl });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = idempotencyKey });
        await command.ExecuteNonQueryAsync(bound.Token);
    }

    /// <summary>
    /// Marks the due rows due again later in the statement that picks them, so that a concurrent sweep leaves them
    /// alone, and a release that fails again waits as long as the first one did.
    /// </summary>
    private async Task<List<Guid>> TakeDueAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE reservation_releases SET next_attempt_at = now() + $1
            WHERE reservation_id IN (
                SELECT reservation_id FROM reservation_releases
                WHERE next_attempt_at <= now()
                ORDER BY next_attempt_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            RETURNING reservation_id
            """);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = options.Value.ReleaseRetryDelay });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = MaxPerSweep });
        return await command.ReadIdsAsync(cancellationToken);
    }
}
