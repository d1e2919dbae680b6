using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Storefront.ServiceSimulator;

namespace Storefront.Tests.Orders;

/// <summary>Never oversell: stock is reserved at acceptance, committed on confirmation and released when an order does not go through.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class ReservationTests(StorefrontStack stack) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task Fifty_concurrent_orders_for_the_last_ten_units_accept_exactly_ten_and_stock_ends_as_the_confirmed_ones_left_it()
    {
        const string sku = "SKU-05003";
        await stack.SetStartingStockAsync(sku, 10);
        // The burst starts on a warm order path, as a served app's would: a cold worker's first placements can time out
        // after reserving, and their units then come back only when the sweep releases them (the test below).
        await stack.PlaceAcceptedAsync(OrderApi.Body(sku: "SKU-05006", quantity: 1, currency: "USD"));

        // Every other customer's card is declined: those orders are accepted, then rejected, and give their unit back.
        // A 503 (inventory overwhelmed by the burst) is retried with the same key, as clients do. Payments stay down
        // until every request has its answer, so that no declined order gives its unit back to a retry of this burst;
        // the orders wait in processing meanwhile (well within the retry budget).
        await stack.ConfigureServiceAsync("payments", new { errorRate = 1.0 });
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => stack.PlaceRetryingAsync(
            OrderApi.Body(sku: sku, quantity: 1, currency: "USD", customerId: i % 2 == 0 ? $"decline-{i}" : $"c-{i}"), $"last-units-{Guid.NewGuid():N}")));
        await stack.ConfigureServiceAsync("payments", new { errorRate = 0.0 });

        var accepted = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).ToArray();
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToArray();
        Assert.Equal(10, accepted.Length);
        Assert.Equal(40, refused.Length);
        foreach (var response in refused)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal([sku], problem.GetProperty("skus").EnumerateArray().Select(s => s.GetString()));
        }

        var ids = await Task.WhenAll(accepted.Select(OrderApi.AcceptedIdAsync));
        var orders = new List<JsonElement>();
        foreach (var id in ids)
        {
            orders.Add(await stack.WaitUntilFinishedAsync(id, Patience));
        }

        var confirmed = orders.Count(o => o.GetProperty("status").GetString() == "confirmed");
        Assert.Equal(10, confirmed + orders.Count(o => o.GetProperty("status").GetString() == "rejected"));
        Assert.Equal(10 - confirmed, await stack.StockShownAsync(sku));
        var reservations = (await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>("admin/reservations"))!
            .Where(r => ids.Contains(Guid.Parse(r.OrderId))).ToArray();
        Assert.Equal(10, reservations.Length);
        Assert.Equal(confirmed, reservations.Count(r => r.Status == "committed"));
        Assert.DoesNotContain(reservations, r => r.Status == "held");
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Stock_held_by_an_accepted_order_is_not_shown_as_available()
    {
        const string sku = "SKU-05004";
        await stack.SetStartingStockAsync(sku, 5);
        // Slow payments keep the order between acceptance and confirmation while the stock is read.
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 3000 });

        var id = await stack.PlaceAcceptedAsync(OrderApi.Body(sku: sku, quantity: 3, currency: "USD"));

        Assert.Equal(2, await stack.StockShownAsync(sku));
        Assert.Equal("confirmed", (await stack.WaitUntilFinishedAsync(id, Patience)).GetProperty("status").GetString());
        Assert.Equal(2, await stack.StockShownAsync(sku));
    }

    [Fact]
    public async Task An_order_refused_for_another_reason_gives_back_what_it_reserved()
    {
        const string sku = "SKU-05005";
        await stack.SetStartingStockAsync(sku, 5);

        using var unsupported = await stack.PlaceAsync(OrderApi.Body(sku: sku, quantity: 2, currency: "XXX"));
        using var unknownSku = await stack.PlaceAsync(new
        {
            customerId = "c-1",
            email = "a@example.com",
            currency = "USD",
            lines = new[] { new { sku, quantity = 2 }, new { sku = "SKU-99999", quantity = 1 } },
            shipTo = new { country = "NL", postcode = "1011AB" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, unsupported.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownSku.StatusCode);
        Assert.True(await Eventually.TrueAsync(async () => await stack.StockShownAsync(sku) == 5, Patience));
        Assert.DoesNotContain((await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>("admin/reservations"))!, r => r.Status == "held");
    }

    [Fact]
    public async Task A_release_inventory_does_not_confirm_is_owed_and_the_sweep_makes_it_even_for_a_reservation_call_that_lands_late()
    {
        const string sku = "SKU-05007";
        await stack.SetStartingStockAsync(sku, 5);
        var reservationId = await RefuseWithALateReservationAsync(sku, 2, key: null);
        Assert.Equal(3, await stack.StockShownAsync(sku));
        await SetOwedReleaseDueAsync(reservationId, TimeSpan.Zero);

        Assert.True(await Eventually.TrueAsync(async () => !(await OwedReleasesAsync()).Contains(reservationId), Patience));
        var reservation = Assert.Single((await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>($"admin/reservations?orderId={reservationId}"))!);
        Assert.Equal("released", reservation.Status);
        Assert.Equal(5, await stack.StockShownAsync(sku));
    }

    [Fact]
    public async Task A_retry_that_finds_the_stock_short_gets_the_units_its_earlier_attempt_held_and_still_owed_back()
    {
        const string sku = "SKU-05008";
        await stack.SetStartingStockAsync(sku, 2);
        var key = $"owed-retry-{Guid.NewGuid():N}";
        var earlier = await RefuseWithALateReservationAsync(sku, 2, key);
        Assert.Equal(0, await stack.StockShownAsync(sku));

        // The client retries with the same key: the units are its own earlier attempt's, so it gets them.
        using var retried = await stack.PlaceAsync(OrderApi.Body(sku: sku, quantity: 2, currency: "USD"), key);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        var orderId = await OrderApi.AcceptedIdAsync(retried);
        Assert.NotEqual(earlier, orderId);
        Assert.DoesNotContain(earlier, await OwedReleasesAsync());
        Assert.Equal("released", Assert.Single((await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>($"admin/reservations?orderId={earlier}"))!).Status);
        Assert.Contains(
            Assert.Single((await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>($"admin/reservations?orderId={orderId}"))!).Status,
            new[] { "held", "committed" });
        Assert.Equal(0, await stack.StockShownAsync(sku));
    }

    /// <summary>
    /// An order placed while inventory hangs: the reservation call times out (its outcome unknown to the app), so does
    /// the release, and the order is refused with 503 while the release is owed. The sweep is kept off it for an hour
    /// while the reservation call lands late (as one still on its way would) and holds the units.
    /// </summary>
    /// <returns>The reservation's id.</returns>
    private async Task<Guid> RefuseWithALateReservationAsync(string sku, int quantity, string? key)
    {
        var owedBefore = await OwedReleasesAsync();
        await stack.ConfigureServiceAsync("inventory", new { hangRate = 1.0 });
        using (var refused = await stack.PlaceAsync(OrderApi.Body(sku: sku, quantity: quantity, currency: "USD"), key))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        var reservationId = Assert.Single((await OwedReleasesAsync()).Except(owedBefore));
        await SetOwedReleaseDueAsync(reservationId, TimeSpan.FromHours(1));
        await stack.ConfigureServiceAsync("inventory", new { hangRate = 0.0 });
        (await stack.Simulator.PutAsJsonAsync($"reservations/{reservationId}", new { orderId = reservationId, lines = new[] { new { sku, quantity } } }))
            .EnsureSuccessStatusCode();
        return reservationId;
    }

    private async Task<List<Guid>> OwedReleasesAsync()
    {
        await using var command = stack.Database.CreateCommand("SELECT reservation_id FROM reservation_releases");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private async Task SetOwedReleaseDueAsync(Guid reservationId, TimeSpan fromNow)
    {
        await using var command = stack.Database.CreateCommand("UPDATE reservation_releases SET next_attempt_at = now() + $2 WHERE reservation_id = $1");
        command.Parameters.AddWithValue(reservationId);
        command.Parameters.AddWithValue(fromNow);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
