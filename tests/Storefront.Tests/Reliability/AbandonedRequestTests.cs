using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.ServiceSimulator;
using Storefront.Tests.Orders;

namespace Storefront.Tests.Reliability;

/// <summary>A client that goes away while its request runs: nothing half-done stays behind, and no failure is logged.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class AbandonedRequestTests(StorefrontStack stack) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    /// <summary>
    /// The test holds a lock on the orders table, so the order's insert waits once its stock is reserved; the client
    /// leaves while it waits (seen in <c>pg_stat_activity</c>, not guessed from a time).
    /// </summary>
    [Fact]
    public async Task A_client_that_leaves_while_its_order_is_stored_leaves_no_order_no_held_stock_and_no_logged_failure()
    {
        const string sku = "SKU-05009";
        var key = $"leaves-{Guid.NewGuid():N}";
        await stack.SetStartingStockAsync(sku, 5);
        var logMark = stack.HostLog.Mark;

        await using (var blocker = await stack.Database.OpenConnectionAsync())
        await using (var transaction = await blocker.BeginTransactionAsync())
        {
            await using (var lockOrders = new NpgsqlCommand("LOCK TABLE orders IN SHARE MODE", blocker, transaction))
            {
                await lockOrders.ExecuteNonQueryAsync();
            }

            using var leave = new CancellationTokenSource();
            var placing = stack.PlaceAsync(OrderApi.Body(sku: sku, quantity: 2, currency: "USD"), key, cancellationToken: leave.Token);
            var blockerPid = blocker.ProcessID;
            Assert.True(await Eventually.TrueAsync(() => OrderInsertWaitsOnAsync(blockerPid), Patience), "the order's insert never waited for the lock");

            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() => placing);
            Assert.True(
                await Eventually.TrueAsync(() => Task.FromResult(AbandonedLines(logMark).Length == 1), Patience),
                "the invocation did not end as abandoned");
            await transaction.RollbackAsync();
        }

        HostLog.Record[] failures = [.. stack.HostLog.Since(logMark).Where(r => r.Level >= LogLevel.Warning && r.Message.Contains("PlaceOrder", StringComparison.Ordinal))];
        Assert.True(failures.Length == 0, $"logged as a failure: {failures.FirstOrDefault()?.Message}");
        await using (var stored = stack.Database.CreateCommand("SELECT count(*) FROM orders WHERE idempotency_key = $1"))
        {
            stored.Parameters.AddWithValue(key);
            Assert.Equal(0L, await stored.ExecuteScalarAsync());
        }

        Assert.Equal(5, await stack.StockShownAsync(sku));
        var reservations = (await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>("admin/reservations"))!.Where(r => r.Lines.Any(l => l.Sku == sku)).ToArray();
        Assert.Contains(reservations, r => r.Status == "released");
        Assert.DoesNotContain(reservations, r => r.Status == "held");
    }

    private async Task<bool> OrderInsertWaitsOnAsync(int blockerPid)
    {
        await using var command = stack.Database.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE '%INSERT INTO orders %'");
        command.Parameters.AddWithValue(blockerPid);
        return (long)(await command.ExecuteScalarAsync())! >= 1;
    }

    private HostLog.Record[] AbandonedLines(long mark) =>
        [.. stack.HostLog.Since(mark).Where(r => r.Message.Contains("PlaceOrder ended early: its request was aborted", StringComparison.Ordinal))];
}
