using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>Stock that goes down when held or sold and comes back when released or expired; reservations all-or-nothing and idempotent.</summary>
public sealed class InventoryReservationTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Holding_committing_and_releasing_move_the_available_stock()
    {
        await SetStartingAsync("SKU-00042", 10);

        using var held = await ReserveAsync("order-1", ("SKU-00042", 3));
        Assert.Equal(HttpStatusCode.Created, held.StatusCode);
        Assert.Equal(7, await AvailableAsync("SKU-00042"));
        using var committed = await simulator.Client.PostAsync(new Uri("/reservations/order-1/commit", UriKind.Relative), null);
        Assert.Equal("committed", (await committed.Content.ReadFromJsonAsync(Json.ReservationRecord))!.Status);
        Assert.Equal(7, await AvailableAsync("SKU-00042"));

        using var second = await ReserveAsync("order-2", ("SKU-00042", 4));
        using var released = await simulator.Client.PostAsync(new Uri("/reservations/order-2/release", UriKind.Relative), null);
        Assert.Equal("released", (await released.Content.ReadFromJsonAsync(Json.ReservationRecord))!.Status);
        Assert.Equal(7, await AvailableAsync("SKU-00042"));
        Assert.Equal(new StockRecord("SKU-00042", 10, 0, 3, 7), await simulator.Client.GetFromJsonAsync($"/admin/stock/SKU-00042", Json.StockRecord));
    }

    [Fact]
    public async Task A_reservation_holds_every_line_or_none_and_names_the_short_skus()
    {
        await SetStartingAsync("SKU-00042", 5);
        await SetStartingAsync("SKU-00043", 1);

        using var refused = await ReserveAsync("order-3", ("SKU-00042", 2), ("SKU-00043", 2), ("SKU-99999", 1));

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["SKU-99999"], problem.GetProperty("shortSkus").EnumerateArray().Select(s => s.GetString()));
        using var refusedKnown = await ReserveAsync("order-3", ("SKU-00042", 2), ("SKU-00043", 2));
        Assert.Equal(["SKU-00043"], (await refusedKnown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("shortSkus").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(5, await AvailableAsync("SKU-00042"));
        Assert.Empty((await simulator.Client.GetFromJsonAsync("/admin/reservations", Json.ListReservationRecord))!);
    }

    [Fact]
    public async Task Fifty_concurrent_reservations_of_the_last_ten_units_hold_exactly_ten()
    {
        await SetStartingAsync("SKU-00042", 10);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => ReserveAsync($"order-c{i}", ("SKU-00042", 1))));

        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(40, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(0, await AvailableAsync("SKU-00042"));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_repeated_reservation_answers_as_the_first_and_settling_twice_acts_once()
    {
        await SetStartingAsync("SKU-00042", 10);

        using var first = await ReserveAsync("order-r", ("SKU-00042", 2));
        using var again = await ReserveAsync("order-r", ("SKU-00042", 5));
        using var commit1 = await simulator.Client.PostAsync(new Uri("/reservations/order-r/commit", UriKind.Relative), null);
        using var commit2 = await simulator.Client.PostAsync(new Uri("/reservations/order-r/commit", UriKind.Relative), null);
        using var release = await simulator.Client.PostAsync(new Uri("/reservations/order-r/release", UriKind.Relative), null);
        using var unknown = await simulator.Client.PostAsync(new Uri("/reservations/nobody/release", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.OK, commit2.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, release.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(8, await AvailableAsync("SKU-00042"));
    }

    [Fact]
    public async Task A_held_reservation_expires_and_gives_its_units_back_and_cannot_then_be_committed()
    {
        await SetStartingAsync("SKU-00042", 10);

        using var held = await ReserveAsync("order-e", 1, ("SKU-00042", 4));
        Assert.Equal(6, await AvailableAsync("SKU-00042"));

        Assert.True(await Eventually.TrueAsync(async () => await AvailableAsync("SKU-00042") == 10, TimeSpan.FromSeconds(30)));
        using var commit = await simulator.Client.PostAsync(new Uri("/reservations/order-e/commit", UriKind.Relative), null);
        using var release = await simulator.Client.PostAsync(new Uri("/reservations/order-e/release", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, commit.StatusCode);
        Assert.Equal(HttpStatusCode.OK, release.StatusCode);
        Assert.Equal("expired", Assert.Single((await simulator.Client.GetFromJsonAsync("/admin/reservations?orderId=order-e", Json.ListReservationRecord))!).Status);
    }

    [Fact]
    public async Task A_bad_reservation_request_is_400_and_a_reset_restores_the_starting_levels()
    {
        using var empty = await simulator.Client.PutAsJsonAsync("/reservations/order-b", new { orderId = "order-b", lines = Array.Empty<object>() });
        using var zero = await simulator.Client.PutAsJsonAsync("/reservations/order-b", new { orderId = "order-b", lines = new[] { new { sku = "SKU-00042", quantity = 0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);

        var starting = await AvailableAsync("SKU-00042");
        (await ReserveAsync("order-b", ("SKU-00042", 1))).Dispose();
        await simulator.ResetAsync();
        Assert.Equal(starting, await AvailableAsync("SKU-00042"));
        Assert.Equal(Rules.Available(42), starting);
    }

    private Task<HttpResponseMessage> ReserveAsync(string orderId, params (string Sku, int Quantity)[] lines) => ReserveAsync(orderId, null, lines);

    private Task<HttpResponseMessage> ReserveAsync(string orderId, int? ttlSeconds, params (string Sku, int Quantity)[] lines) =>
        simulator.Client.PutAsJsonAsync($"/reservations/{orderId}", new { orderId, lines = lines.Select(l => new { sku = l.Sku, quantity = l.Quantity }), ttlSeconds });

    private async Task SetStartingAsync(string sku, int starting) =>
        (await simulator.Client.PutAsJsonAsync($"/admin/stock/{sku}", new { starting })).EnsureSuccessStatusCode();

    private async Task<int> AvailableAsync(string sku) =>
        (await simulator.Client.GetFromJsonAsync($"/stock/{sku}", Json.StockLevel))!.Available;
}
