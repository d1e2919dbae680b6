using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>Inventory, reviews and FX: wire contracts and deterministic answers.</summary>
public sealed class CatalogTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Stock_has_the_contract_shape_and_golden_values()
    {
        using var response = await simulator.Client.GetAsync(new Uri("/stock/SKU-00042", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["sku", "available", "warehouse"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("SKU-00042", json.RootElement.GetProperty("sku").GetString());
        // Golden values: the rule is stable across processes and releases; other test suites may rely on them.
        Assert.Equal(120, json.RootElement.GetProperty("available").GetInt32());
        Assert.Equal("AMS-1", json.RootElement.GetProperty("warehouse").GetString());
    }

    [Fact]
    public async Task Stock_is_deterministic()
    {
        var first = await simulator.Client.GetFromJsonAsync("/stock/SKU-00777", SimulatorJsonContext.Default.StockLevel);
        var second = await simulator.Client.GetFromJsonAsync("/stock/SKU-00777", SimulatorJsonContext.Default.StockLevel);

        Assert.Equal(first, second);
        Assert.Equal(new StockLevel("SKU-00777", Rules.Available(777), Rules.Warehouse(777)), first);
    }

    [Theory]
    [InlineData("SKU-00013", 0)]
    [InlineData("SKU-00097", 0)]
    [InlineData("SKU-00194", 0)]
    [InlineData("SKU-08633", 0)] // 89 * 97: out of stock wins over low stock
    [InlineData("SKU-00089", 2)]
    [InlineData("SKU-00178", 2)]
    public async Task Stock_rules_give_zero_or_low_stock(string sku, int available)
    {
        var stock = await simulator.Client.GetFromJsonAsync($"/stock/{sku}", SimulatorJsonContext.Default.StockLevel);

        Assert.Equal(available, stock!.Available);
    }

    [Fact]
    public void Every_other_known_sku_has_5_to_500_with_spread_and_all_warehouses()
    {
        var others = Enumerable.Range(1, 10_000).Where(n => n != 13 && n % 97 != 0 && n % 89 != 0).ToList();

        Assert.All(others, n => Assert.InRange(Rules.Available(n), 5, 500));
        Assert.True(others.Select(Rules.Available).Distinct().Count() > 400);
        Assert.Equal(Rules.Warehouses.Order(), Enumerable.Range(1, 100).Select(Rules.Warehouse).Distinct().Order());
        Assert.Equal("SKU-00001", Rules.Sku(1));
        Assert.Equal("SKU-10000", Rules.Sku(10_000));
    }

    [Theory]
    [InlineData("SKU-10001")]
    [InlineData("SKU-00000")]
    [InlineData("SKU-42")]
    [InlineData("SKU-000042")]
    [InlineData("sku-00042")]
    [InlineData("SKU-0004x")]
    [InlineData("BANANA")]
    public async Task Unknown_sku_is_404_problem_for_stock_and_reviews(string sku)
    {
        foreach (var path in new[] { $"/stock/{sku}", $"/reviews/{sku}/summary" })
        {
            using var response = await simulator.Client.GetAsync(new Uri(path, UriKind.Relative));

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Boundary_skus_are_known()
    {
        using var first = await simulator.Client.GetAsync(new Uri("/stock/SKU-00001", UriKind.Relative));
        using var last = await simulator.Client.GetAsync(new Uri("/stock/SKU-10000", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
    }

    [Fact]
    public async Task Review_summary_has_the_contract_shape_and_golden_values()
    {
        var body = await simulator.Client.GetStringAsync(new Uri("/reviews/SKU-00042/summary", UriKind.Relative));

        Assert.Equal("""{"sku":"SKU-00042","average":1.1,"count":238}""", body);
    }

    [Fact]
    public void Review_averages_have_one_decimal_in_1_to_5_and_counts_are_positive()
    {
        var numbers = Enumerable.Range(1, 10_000).ToList();

        Assert.All(numbers, n =>
        {
            var average = Rules.ReviewAverage(n);
            Assert.InRange(average, 1.0m, 5.0m);
            Assert.Equal(average, decimal.Round(average, 1));
            Assert.InRange(Rules.ReviewCount(n), 1, 1000);
        });
        Assert.Equal(41, numbers.Select(Rules.ReviewAverage).Distinct().Count());
    }

    [Fact]
    public async Task Rates_for_usd_have_the_contract_shape()
    {
        using var response = await simulator.Client.GetAsync(new Uri("/rates?base=USD", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(["base", "asOf", "rates"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("USD", root.GetProperty("base").GetString());
        Assert.Equal(
            """{"EUR":0.92,"GBP":0.79,"JPY":151.2,"CHF":0.88,"CAD":1.36,"AUD":1.52,"SEK":10.6,"NOK":10.8,"DKK":6.86,"PLN":3.98}""",
            root.GetProperty("rates").GetRawText());
        var asOf = root.GetProperty("asOf").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$", asOf);
        var parsed = DateTimeOffset.Parse(asOf, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(parsed, DateTimeOffset.UtcNow.AddHours(-2), DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task Rates_without_base_are_usd_and_other_bases_are_400_problem()
    {
        var rates = await simulator.Client.GetFromJsonAsync("/rates", SimulatorJsonContext.Default.FxRates);
        using var euro = await simulator.Client.GetAsync(new Uri("/rates?base=EUR", UriKind.Relative));

        Assert.Equal("USD", rates!.Base);
        Assert.Equal(HttpStatusCode.BadRequest, euro.StatusCode);
        Assert.Equal("application/problem+json", euro.Content.Headers.ContentType?.MediaType);
    }
}
