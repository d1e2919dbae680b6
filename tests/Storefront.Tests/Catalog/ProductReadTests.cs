using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.Tests.Catalog;

[Collection(StorefrontCollection.Name)]
public sealed class ProductReadTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task A_product_read_answers_with_details_stock_rating_and_a_converted_price()
    {
        await stack.WaitUntilWholeInAsync("EUR");

        var response = await stack.Client.GetAsync("api/products/SKU-00042?currency=EUR");
        var product = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("SKU-00042", product.GetProperty("sku").GetString());
        Assert.Equal("EUR", product.GetProperty("price").GetProperty("currency").GetString());
        Assert.Equal(120, product.GetProperty("stock").GetProperty("available").GetInt32());
        Assert.Equal("AMS-1", product.GetProperty("stock").GetProperty("warehouse").GetString());
        Assert.True(product.GetProperty("rating").GetProperty("count").GetInt32() > 0);
        Assert.Empty(product.GetProperty("degraded").EnumerateArray());
        var usd = await PriceUsdAsync("SKU-00042");
        Assert.Equal(Math.Round(usd * 0.92m, 2, MidpointRounding.AwayFromZero), product.GetProperty("price").GetProperty("amount").GetDecimal());
        var timing = string.Join(",", response.Headers.GetValues("Server-Timing"));
        Assert.Contains("db;dur=", timing, StringComparison.Ordinal);
        Assert.Contains("inventory;dur=", timing, StringComparison.Ordinal);
        Assert.Contains("reviews;dur=", timing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_product_read_again_takes_its_row_from_memory_and_its_stock_and_rating_from_the_services()
    {
        // A sku no other test reads: the first read is this worker's first of it.
        using var first = await stack.Client.GetAsync("api/products/SKU-09042");
        using var second = await stack.Client.GetAsync("api/products/SKU-09042");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var firstTiming = string.Join(",", first.Headers.GetValues("Server-Timing"));
        var secondTiming = string.Join(",", second.Headers.GetValues("Server-Timing"));
        Assert.Contains("db;dur=", firstTiming, StringComparison.Ordinal);
        Assert.DoesNotContain("cached", firstTiming, StringComparison.Ordinal);
        Assert.Contains("db;dur=0.0;desc=\"cached\"", secondTiming, StringComparison.Ordinal);
        Assert.Contains("inventory;dur=", secondTiming, StringComparison.Ordinal);
        Assert.Contains("reviews;dur=", secondTiming, StringComparison.Ordinal);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_a_currency_the_price_is_the_stored_usd_price()
    {
        var product = await stack.Client.GetFromJsonAsync<JsonElement>("api/products/SKU-00007");

        Assert.Equal("USD", product.GetProperty("price").GetProperty("currency").GetString());
        Assert.Equal(await PriceUsdAsync("SKU-00007"), product.GetProperty("price").GetProperty("amount").GetDecimal());
    }

    [Fact]
    public async Task The_inventory_reviews_and_fx_calls_of_one_read_overlap_in_time()
    {
        // A worker that could not fill its FX cache at start has no cached rates, so this read calls FX too.
        await FxCacheTests.RestartWithColdFxCacheAsync(stack);
        foreach (var service in new[] { "inventory", "reviews", "fx" })
        {
            await stack.ConfigureServiceAsync(service, new { latencyMs = 200 });
        }

        var response = await stack.Client.GetAsync("api/products/SKU-00100?currency=GBP");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var first = new[] { (await stack.CallsAsync("inventory"))[0], (await stack.CallsAsync("reviews"))[0], (await stack.CallsAsync("fx"))[0] };
        var lastStart = first.Max(c => c.StartedAt);
        var firstEnd = first.Min(c => c.EndedAt);
        Assert.True(lastStart < firstEnd, $"calls ran in series: {string.Join("; ", first.Select(c => $"{c.Service} {c.StartedAt:O}..{c.EndedAt:O}"))}");
    }

    [Fact]
    public async Task Failing_inventory_degrades_the_answer_instead_of_failing_it()
    {
        await stack.ConfigureServiceAsync("inventory", new { errorRate = 1.0 });

        // Every answer is a 200 without stock. On a busy machine reviews may also run out of the budget now and
        // then, so a few reads are allowed for one where inventory alone is degraded.
        JsonElement product = default;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var response = await stack.Client.GetAsync("api/products/SKU-00043?currency=EUR");
            product = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(JsonValueKind.Null, product.GetProperty("stock").ValueKind);
            Assert.Contains("inventory", product.GetProperty("degraded").EnumerateArray().Select(e => e.GetString()));
            if (product.GetProperty("rating").ValueKind != JsonValueKind.Null)
            {
                break;
            }
        }

        Assert.Equal(["inventory"], product.GetProperty("degraded").EnumerateArray().Select(e => e.GetString()));
        Assert.NotEqual(JsonValueKind.Null, product.GetProperty("rating").ValueKind);
    }

    [Fact]
    public async Task Hanging_inventory_is_cut_off_by_the_budget_and_degrades_the_answer()
    {
        await stack.ConfigureServiceAsync("inventory", new { hangRate = 1.0 });

        var response = await stack.Client.GetAsync("api/products/SKU-00044");
        var product = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Null, product.GetProperty("stock").ValueKind);
        // The simulator hangs for minutes: a 200 that names inventory as degraded shows the call was abandoned.
        Assert.Contains("inventory", product.GetProperty("degraded").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Repeated_inventory_failures_open_the_circuit_and_inventory_is_not_called_while_it_is_open()
    {
        await stack.ConfigureServiceAsync("inventory", new { errorRate = 1.0 });
        // Enough failures to outweigh the successes still in the breaker's window (the worker's warm-up, earlier tests).
        for (var i = 0; i < 20; i++)
        {
            await stack.Client.GetAsync($"api/products/SKU-{i + 200:D5}");
        }

        await stack.Simulator.DeleteAsync("admin/calls");
        var whileOpen = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => stack.Client.GetFromJsonAsync<JsonElement>($"api/products/SKU-0030{i}")));

        Assert.Empty(await stack.CallsAsync("inventory"));
        Assert.All(whileOpen, p => Assert.Contains("inventory", p.GetProperty("degraded").EnumerateArray().Select(e => e.GetString())));

        // Once the break is over and inventory is healthy again, the circuit closes.
        await stack.ResetSimulatorAsync();
        Assert.True(
            await Eventually.TrueAsync(
                async () => (await stack.Client.GetFromJsonAsync<JsonElement>("api/products/SKU-00400")).GetProperty("degraded").GetArrayLength() == 0,
                StorefrontStack.BreakDuration * 5),
            "the inventory circuit did not close again");
    }

    [Fact]
    public async Task An_unknown_sku_is_404_problem_and_the_calls_in_flight_are_cancelled()
    {
        await stack.ConfigureServiceAsync("reviews", new { latencyMs = 2000 });

        var response = await stack.Client.GetAsync("api/products/NO-SUCH-SKU");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(
            await Eventually.TrueAsync(async () => (await stack.CallsAsync("reviews")).Any(c => c.Status == 499), TimeSpan.FromSeconds(10)),
            "the reviews call was not abandoned");
    }

    [Theory]
    [InlineData("api/products/SKU%2000042")]
    [InlineData("api/products/SKU_00042")]
    [InlineData("api/products/SKU-00042?currency=EURO")]
    [InlineData("api/products/SKU-00042?currency=E1R")]
    [InlineData("api/products/SKU-00042?currency=XYZ")]
    public async Task A_malformed_sku_or_an_unsupported_currency_is_400_problem(string url)
    {
        var response = await stack.Client.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_overlong_sku_is_400_problem()
    {
        var response = await stack.Client.GetAsync("api/products/" + new string('A', 65));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<decimal> PriceUsdAsync(string sku)
    {
        await using var command = stack.Database.CreateCommand("SELECT price_usd FROM products WHERE sku = $1");
        command.Parameters.AddWithValue(sku);
        return (decimal)(await command.ExecuteScalarAsync())!;
    }
}
