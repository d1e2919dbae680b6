using System.Text.Json;
using Npgsql;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Orders;

public sealed record StoredAcceptance(Guid Id, byte[] RequestHash, decimal Total, string Currency, DateTimeOffset CreatedAt)
{
    public OrderAccepted Answer => new(Id, OrderStatus.Accepted, Total, Currency, CreatedAt);
}

public sealed record NewOrder(Guid Id, string IdempotencyKey, byte[] RequestHash, ValidOrder Order, IReadOnlyList<decimal> UnitPrices, decimal Total);

/// <summary>What the queue function needs to process an order.</summary>
public sealed record OrderWork(Guid Id, string Status, string CustomerId, string Email, string Currency, decimal Total, string Country, string Postcode, IReadOnlyList<OrderLineView> Lines);

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
            INSERT INTO orders (id, idempotency_key, request_hash, customer_id, email, currency, total, ship_to_country, ship_to_postcode)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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

        var outboxId = await Outbox.AddAsync(connection, transaction, order.Id, QueueName, JsonSerializer.Serialize(new OrderMessage(order.Id), JsonSerializerOptions.Web), cancellationToken);
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
                   failure_reason, created_at, updated_at
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
            Failure: reader.IsDBNull(10) ? null : reader.GetString(10), Created: reader.GetFieldValue<DateTimeOffset>(11), Updated: reader.GetFieldValue<DateTimeOffset>(12));
        await reader.NextResultAsync(cancellationToken);
        var lines = new List<OrderLineView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new OrderLineView(reader.GetString(0), reader.GetInt32(1), reader.GetDecimal(2)));
        }

        return new OrderView(head.Id, head.Status, head.Customer, head.Currency, head.Total, lines, payment, shipment, head.Failure, head.Created, head.Updated);
    }

    /// <summary>
    /// Takes the processing lease of an order: only one invocation works on an order at a time, and a
    /// lease left by a crashed invocation can be taken over once it has run out.
    /// </summary>
    /// <returns>The order to work on, or null when it is finished, unknown, or leased by another invocation.</returns>
    public async Task<OrderWork?> ClaimAsync(Guid id, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            UPDATE orders SET status = 'processing', processing_started_at = now(), attempts = attempts + 1, updated_at = now()
            WHERE id = $1
              AND (status = 'accepted' OR (status = 'processing' AND (processing_started_at IS NULL OR processing_started_at < now() - $2)))
            RETURNING id, status, customer_id, email, currency, total, ship_to_country, ship_to_postcode
            """)
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id }, new NpgsqlParameter<TimeSpan> { TypedValue = lease } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no")
        {
            Parameters = { new NpgsqlParameter<Guid> { TypedValue = id } },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var head = (Id: reader.GetGuid(0), Status: reader.GetString(1), Customer: reader.GetString(2), Email: reader.GetString(3), Currency: reader.GetString(4),
            Total: reader.GetDecimal(5), Country: reader.GetString(6), Postcode: reader.GetString(7));
        await reader.NextResultAsync(cancellationToken);
        var lines = new List<OrderLineView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(new OrderLineView(reader.GetString(0), reader.GetInt32(1), reader.GetDecimal(2)));
        }

        return new OrderWork(head.Id, head.Status, head.Customer, head.Email, head.Currency, head.Total, head.Country, head.Postcode, lines);
    }

    public Task RecordPaymentAsync(Guid id, string paymentId, string status, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("UPDATE orders SET payment_id = $2, payment_status = $3, updated_at = now() WHERE id = $1", cancellationToken, id, paymentId, status);

    public Task RejectAsync(Guid id, string paymentId, string reason, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync(
            "UPDATE orders SET status = 'rejected', payment_id = $2, payment_status = 'declined', failure_reason = $3, processing_started_at = NULL, updated_at = now() WHERE id = $1 AND status = 'processing'",
            cancellationToken,
            id,
            paymentId,
            reason);

    /// <returns>Whether this call confirmed the order (false if another invocation already had).</returns>
    public async Task<bool> ConfirmAsync(Guid id, string shipmentId, string carrier, int etaDays, CancellationToken cancellationToken) =>
        await dataSource.ExecuteAsync(
            "UPDATE orders SET status = 'confirmed', shipment_id = $2, shipment_carrier = $3, shipment_eta_days = $4, processing_started_at = NULL, last_error = NULL, updated_at = now() WHERE id = $1 AND status = 'processing'",
            cancellationToken,
            id,
            shipmentId,
            carrier,
            etaDays) == 1;

    /// <summary>Gives the lease back after a failed attempt, so the queue's retry can take it at once.</summary>
    public Task ReleaseAfterFailureAsync(Guid id, string error, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync("UPDATE orders SET processing_started_at = NULL, last_error = $2, updated_at = now() WHERE id = $1 AND status = 'processing'", cancellationToken, id, DataSourceExtensions.BoundedError(error));

    /// <summary>The queue gave up on the order's message: the order fails, keeping the message and the last error.</summary>
    public Task FailAsync(Guid id, string message, CancellationToken cancellationToken) =>
        dataSource.ExecuteAsync(
            """
            UPDATE orders SET status = 'failed', processing_started_at = NULL, failed_message = $2, updated_at = now(),
                   failure_reason = 'Processing failed after ' || attempts || ' attempts: ' || coalesce(last_error, 'unknown error')
            WHERE id = $1 AND status IN ('accepted', 'processing')
            """,
            cancellationToken,
            id,
            message);

    /// <summary>
    /// Orders whose processing lease ran out (their invocation died) get a fresh outbox message, and
    /// their lease is renewed in the same statement so that one sweep re-queues each order once.
    /// </summary>
    public async Task<int> RequeueStuckAsync(TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH stuck AS (
                SELECT id FROM orders
                WHERE status = 'processing' AND processing_started_at < now() - $1
                ORDER BY processing_started_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED),
            renewed AS (
                UPDATE orders o SET processing_started_at = NULL, updated_at = now() FROM stuck WHERE o.id = stuck.id RETURNING o.id)
            INSERT INTO outbox (order_id, queue_name, payload)
            SELECT id, 'orders', jsonb_build_object('orderId', id) FROM renewed
            """);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = lease });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
