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
        await SetStartingAsync(sku, 10);

        // Every other customer's card is declined: those orders are accepted, then rejected, and give their unit back.
        // A 503 (inventory overwhelmed by the burst) is retried with the same key, as clients do.
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => stack.PlaceRetryingAsync(
            OrderApi.Body(sku: sku, quantity: 1, currency: "USD", customerId: i % 2 == 0 ? $"decline-{i}" : $"c-{i}"), $"last-units-{Guid.NewGuid():N}")));

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
        Assert.Equal(10 - confirmed, await StockShownAsync(sku));
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
        await SetStartingAsync(sku, 5);
        // Slow payments keep the order between acceptance and confirmation while the stock is read.
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 3000 });

        var id = await stack.PlaceAcceptedAsync(OrderApi.Body(sku: sku, quantity: 3, currency: "USD"));

        Assert.Equal(2, await StockShownAsync(sku));
        Assert.Equal("confirmed", (await stack.WaitUntilFinishedAsync(id, Patience)).GetProperty("status").GetString());
        Assert.Equal(2, await StockShownAsync(sku));
    }

    [Fact]
    public async Task An_order_refused_for_another_reason_gives_back_what_it_reserved()
    {
        const string sku = "SKU-05005";
        await SetStartingAsync(sku, 5);

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
        Assert.True(await StorefrontStack.EventuallyAsync(async () => await StockShownAsync(sku) == 5, Patience));
        Assert.DoesNotContain((await stack.Simulator.GetFromJsonAsync<List<ReservationRecord>>("admin/reservations"))!, r => r.Status == "held");
    }

    private async Task SetStartingAsync(string sku, int starting) =>
        (await stack.Simulator.PutAsJsonAsync($"admin/stock/{sku}", new { starting })).EnsureSuccessStatusCode();

    /// <summary>The stock a client sees in the product read (the inventory service's available units).</summary>
    private async Task<int> StockShownAsync(string sku)
    {
        var product = await stack.Client.GetFromJsonAsync<JsonElement>($"api/products/{sku}");
        return product.GetProperty("stock").GetProperty("available").GetInt32();
    }
}
