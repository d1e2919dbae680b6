using System.Net;
using System.Net.Http.Json;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>Every store has a bound: tiny ones here (5 calls, 3 keys per store, 3 messages, 50 products, 1 s hangs).</summary>
public sealed class BoundsTests(SmallBoundsFixture simulator) : IClassFixture<SmallBoundsFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Call_log_keeps_the_newest_entries_up_to_its_capacity()
    {
        for (var n = 1; n <= 8; n++)
        {
            using var response = await simulator.Client.GetAsync(new Uri($"/stock/{Rules.Sku(n)}", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var calls = await simulator.CallsAsync();

        Assert.Equal(Enumerable.Range(4, 5).Select(n => $"/stock/{Rules.Sku(n)}"), calls.Select(e => e.Path));
    }

    [Fact]
    public async Task Full_idempotency_store_refuses_new_keys_with_507_but_replays_stored_ones()
    {
        for (var i = 1; i <= 3; i++)
        {
            using var stored = await simulator.PayAsync($"k{i}", SimulatorFixture.Payment($"order-{i}", "customer-1"));
            Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        }

        using var refused = await simulator.PayAsync("k4", SimulatorFixture.Payment("order-4", "customer-1"));
        using var replayed = await simulator.PayAsync("k1", SimulatorFixture.Payment("order-1", "customer-1"));
        using var shipment = await simulator.ShipAsync("s1", SimulatorFixture.Shipment("order-1", "NL"));

        Assert.Equal(HttpStatusCode.InsufficientStorage, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Null(await simulator.PaymentRecordAsync("k4"));
        Assert.Equal(HttpStatusCode.Created, replayed.StatusCode);
        Assert.Equal(HttpStatusCode.Created, shipment.StatusCode);

        await simulator.ResetAsync();
        using var afterReset = await simulator.PayAsync("k4", SimulatorFixture.Payment("order-4", "customer-1"));
        Assert.Equal(HttpStatusCode.Created, afterReset.StatusCode);
    }

    [Fact]
    public async Task Message_log_keeps_the_newest_messages()
    {
        for (var i = 1; i <= 5; i++)
        {
            using var response = await simulator.PostAsync("/messages", null, new { to = $"user{i}@example.com", template = "t" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var messages = await simulator.Client.GetFromJsonAsync("/admin/messages", SimulatorJsonContext.Default.ListRecordedMessage);

        Assert.Equal(["user3@example.com", "user4@example.com", "user5@example.com"], messages!.Select(m => m.To));
    }

    [Fact]
    public async Task Known_products_is_configurable()
    {
        using var last = await simulator.Client.GetAsync(new Uri("/stock/SKU-00050", UriKind.Relative));
        using var beyond = await simulator.Client.GetAsync(new Uri("/reviews/SKU-00051/summary", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, beyond.StatusCode);
    }

    [Fact]
    public async Task Hang_ends_at_its_bound_with_504()
    {
        await simulator.ConfigureAsync(SimulatedServices.Inventory, new ServiceSettingsUpdate(HangRate: 1));

        using var response = await simulator.CallAsync(SimulatedServices.Inventory);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var entry = Assert.Single(await simulator.CallsAsync(SimulatedServices.Inventory));
        Assert.Equal(504, entry.Status);
        Assert.True(entry.Duration >= TimeSpan.FromSeconds(1));
    }
}
