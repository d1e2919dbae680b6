using System.Text.Json;
using Npgsql;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Orders;

public sealed record StoredAcceptance(Guid Id, byte[] RequestHash, decimal Total, string Currency, DateTimeOffset CreatedAt)
{
    public OrderAccepted Answer => new(Id, OrderStatus.Accepted, Total, Currency, CreatedAt);
}

public sealed record NewOrder(Guid Id, string IdempotencyKey, byte[] RequestHash, ValidOrder Order, IReadOnlyList<decimal> UnitPrices, decimal Total);

/// <summary>What the queue function needs to process an order, and how far earlier attempts got.</summary>
public sealed record OrderWork(
    Guid Id,
    string CustomerId,
    string Email,
    string Currency,
    decimal Total,
    string Country,
    string Postcode,
    IReadOnlyList<OrderLineView> Lines,
    string? PaymentId,
    string? PaymentStatus,
    string? ReservationStatus,
    string? FailureReason,
    DateTimeOffset? FirstFailureAt);

/// <summary>Orders in Postgres: acceptance (order, lines and outbox message in one transaction) and processing state.</summary>
public sealed class OrderStore(NpgsqlDataSource dataSource)
{
    public const string QueueName = "orders";

    public async Task<StoredAcceptance?> FindByIdempotencyKeyAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, request_hash, total, currency, created_at FROM orders WHERE idempotency_key = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredAcceptance(reader.GetGuid(0), (byte[])reader[1], reader.GetDecimal(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    /// <summary>
    /// Writes the order, its lines and its outbox message atomically. A concurrent request with the same
    /// idempotency key makes this insert nothing: the caller then reads the winner's row.
    /// </summary>
    /// <returns>The acceptance and the outbox id, or null when another request owns the key.</returns>
    public async Task<(StoredAcceptance Acceptance, long OutboxId)?> InsertAsync(NewOrder order, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var insertOrder = new NpgsqlCommand(
            """
            INSERT INTO orders (id, idempotency_key, request_hash, customer_id, email, currency, total, ship_to_country, ship_to_postcode, reservation_status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'held')
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING created_at
            """,
            connection,
            transaction);
        var o = order.Order;
        insertOrder.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = order.Id });
        insertOrder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = order.IdempotencyKey });
        insertOrder.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = order.RequestHash });
        insertOrder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.CustomerId });
        insertOrder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.Email });
        insertOrder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.Currency });
        insertOrder.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = order.Total });
        insertOrder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.Country });
        insertOrder.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.Postcode });
        if (await insertOrder.ExecuteScalarAsync(cancellationToken) is not DateTime createdAt)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        await using var insertLines = new NpgsqlCommand(
            "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) SELECT $1, n, s, q, p FROM unnest($2::text[], $3::int[], $4::numeric[]) WITH ORDINALITY AS l(s, q, p, n)",
            connection,
            transaction);
        insertLines.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = order.Id });
        insertLines.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. o.Lines.Select(l => l.Sku)] });
        insertLines.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. o.Lines.Select(l => l.Quantity)] });
        insertLines.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = [.. order.UnitPrices] });
        await insertLines.ExecuteNonQueryAsync(cancellationToken);

        var outboxId = await Outbox.AddAsync(connection, transaction, order.Id, QueueName, new WorkMessage(order.Id).ToJson(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var acceptance = new StoredAcceptance(order.Id, order.RequestHash, order.Total, o.Currency, new DateTimeOffset(createdAt, TimeSpan.Zero));
        return (acceptance, outboxId);
    }

    public async Task<OrderView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            SELECT id, status, customer_id, currency, total, payment_id, payment_status, shipment_id, shipment_carrier, shipment_eta_days,
                   failure_reason, created_at, updated_at, attempts,
                   CASE WHEN status IN ('accepted', 'processing') THEN last_error END,
                   CASE WHEN status IN ('accepted', 'processing') AND last_error IS NOT NULL THEN next_attempt_at END
            FROM orders WHERE id = $1
            """) { Parameters = { new NpgsqlParameter<Guid> { TypedValue = id } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no")
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id } },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var payment = reader.IsDBNull(5) ? null : new PaymentView(reader.GetString(5), reader.GetString(6));
        var shipment = reader.IsDBNull(7) ? null : new ShipmentView(reader.GetString(7), reader.GetString(8), reader.GetInt32(9));
        var head = (Id: reader.GetGuid(0), Status: reader.GetString(1), Customer: reader.GetString(2), Currency: reader.GetString(3), Total: reader.GetDecimal(4),
            Failure: reader.IsDBNull(10) ? null : reader.GetString(10), Created: reader.GetFieldValue<DateTimeOffset>(11), Updated: reader.GetFieldValue<DateTimeOffset>(12),
            Attempts: reader.GetInt32(13), Waiting: reader.IsDBNull(14) ? null : reader.GetString(14),
            NextAttempt: reader.IsDBNull(15) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(15));
        await reader.NextResultAsync(cancellationToken);
        var lines = new List<OrderLineView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new OrderLineView(reader.GetString(0), reader.GetInt32(1), reader.GetDecimal(2)));
        }

        return new OrderView(head.Id, head.Status, head.Customer, head.Currency, head.Total, lines, payment, shipment, head.Failure, head.Attempts, head.Waiting, head.NextAttempt, head.Created, head.Updated);
    }

    /// <summary>
    /// Takes the lease on an order that is not finished and not leased by a live invocation. One statement reads the
    /// outcome, so two invocations can never both take it.
    /// </summary>
    public async Task<Claim<OrderWork>> ClaimAsync(Guid id, Guid leaseToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            UPDATE orders SET status = 'processing', lease_token = $2, lease_expires_at = now() + $3, attempts = attempts + 1, updated_at = now()
            WHERE id = $1 AND status IN ('accepted', 'processing') AND (lease_expires_at IS NULL OR lease_expires_at < now())
            RETURNING id, customer_id, email, currency, total, ship_to_country, ship_to_postcode, payment_id, payment_status, failure_reason, first_failure_at, reservation_status
            """)
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id }, new NpgsqlParameter<Guid> { TypedValue = leaseToken }, new NpgsqlParameter<TimeSpan> { TypedValue = lease } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no")
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT status IN ('accepted', 'processing'), greatest(lease_expires_at - now(), interval '0') FROM orders WHERE id = $1 AND lease_token IS DISTINCT FROM $2")
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id }, new NpgsqlParameter<Guid> { TypedValue = leaseToken } },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) && reader.GetBoolean(0)
                ? new Claim<OrderWork>.Busy(reader.IsDBNull(1) ? TimeSpan.Zero : reader.GetFieldValue<TimeSpan>(1))
                : new Claim<OrderWork>.Done();
        }

        var head = (Id: reader.GetGuid(0), Customer: reader.GetString(1), Email: reader.GetString(2), Currency: reader.GetString(3), Total: reader.GetDecimal(4),
            Country: reader.GetString(5), Postcode: reader.GetString(6), PaymentId: reader.IsDBNull(7) ? null : reader.GetString(7),
            PaymentStatus: reader.IsDBNull(8) ? null : reader.GetString(8), FailureReason: reader.IsDBNull(9) ? null : reader.GetString(9),
            FirstFailureAt: reader.IsDBNull(10) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(10),
            ReservationStatus: reader.IsDBNull(11) ? null : reader.GetString(11));
        await reader.NextResultAsync(cancellationToken);
        var lines = new List<OrderLineView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new OrderLineView(reader.GetString(0), reader.GetInt32(1), reader.GetDecimal(2)));
        }

        return new Claim<OrderWork>.Taken(new OrderWork(
            head.Id, head.Customer, head.Email, head.Currency, head.Total, head.Country, head.Postcode, lines, head.PaymentId, head.PaymentStatus, head.ReservationStatus, head.FailureReason, head.FirstFailureAt));
    }

    public Task<bool> RenewLeaseAsync(Guid id, Guid leaseToken, TimeSpan lease, CancellationToken cancellationToken) =>
        dataSource.RenewLeaseAsync("orders", id, leaseToken, lease, cancellationToken);

    public Task RecordAuthorizationAsync(Guid id, Guid leaseToken, string paymentId, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            "UPDATE orders SET payment_id = $3, payment_status = 'authorized', updated_at = now() WHERE id = $1 AND lease_token = $2 AND status = 'processing'",
            cancellationToken,
            paymentId);

    public Task RejectAsync(Guid id, Guid leaseToken, string paymentId, string reason, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            $"""
            UPDATE orders SET status = 'rejected', payment_id = $3, payment_status = 'declined', reservation_status = {StockReleased}, failure_reason = $4, {Released}
            WHERE id = $1 AND lease_token = $2 AND status = 'processing'
            """,
            cancellationToken,
            paymentId,
            reason);

    /// <summary>The shipment is booked, the stock committed and the payment captured: the order is confirmed.</summary>
    public Task ConfirmAsync(Guid id, Guid leaseToken, ShipmentResult shipment, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            $"""
            UPDATE orders SET status = 'confirmed', payment_status = 'captured', reservation_status = {StockCommitted},
                   shipment_id = $3, shipment_carrier = $4, shipment_eta_days = $5, {Released}
            WHERE id = $1 AND lease_token = $2 AND status = 'processing'
            """,
            cancellationToken,
            shipment.ShipmentId,
            shipment.Carrier,
            shipment.EtaDays);

    /// <summary>
    /// Records that the order will fail and why, before anything is undone, so that a retry after a failed undo
    /// resumes it. Returns the payment and reservation to undo, as stored.
    /// </summary>
    public async Task<(string? PaymentId, string? PaymentStatus, string? ReservationStatus)> DecideFailureAsync(Guid id, Guid leaseToken, string reason, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE orders SET failure_reason = $3, updated_at = now() WHERE id = $1 AND lease_token = $2 AND status = 'processing' RETURNING payment_id, payment_status, reservation_status");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = leaseToken });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = DataSourceExtensions.BoundedError(reason) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new LeaseLostException(id);
        }

        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    /// <summary>Ends the order as failed (its failure reason was recorded first), with what became of its payment and reservation.</summary>
    public Task FailAsync(Guid id, Guid leaseToken, string? paymentStatus, string? reservationStatus, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            $"UPDATE orders SET status = 'failed', payment_status = $3, reservation_status = $4, {Released} WHERE id = $1 AND lease_token = $2 AND status = 'processing'",
            cancellationToken,
            (object?)paymentStatus ?? DBNull.Value,
            (object?)reservationStatus ?? DBNull.Value);

    /// <summary>Gives the lease back after a transient failure: the order waits for <paramref name="delay"/>, and says why.</summary>
    public Task RecordRetryAsync(Guid id, Guid leaseToken, string reason, TimeSpan delay, CancellationToken cancellationToken) =>
        dataSource.ExecuteUnderLeaseAsync(
            id,
            leaseToken,
            """
            UPDATE orders SET lease_token = NULL, lease_expires_at = NULL, last_error = $3, next_attempt_at = now() + $4,
                   first_failure_at = coalesce(first_failure_at, now()), updated_at = now()
            WHERE id = $1 AND lease_token = $2 AND status = 'processing'
            """,
            cancellationToken,
            reason,
            delay);

    /// <summary>What every transition to a final status also sets: no lease, nothing to wait for.</summary>
    private const string Released = "lease_token = NULL, lease_expires_at = NULL, last_error = NULL, updated_at = now()";

    // An order accepted before reservations existed (null) holds nothing, and keeps null.
    private const string StockReleased = "CASE WHEN reservation_status IS NULL THEN NULL ELSE 'released' END";
    private const string StockCommitted = "CASE WHEN reservation_status IS NULL THEN NULL ELSE 'committed' END";
}
