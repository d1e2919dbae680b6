using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.ServiceSimulator.Tests;

public sealed class ShippingAndNotificationsTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("NL", "PostNL", 1)]
    [InlineData("be", "PostNL", 2)]
    [InlineData("DE", "DHL", 2)]
    [InlineData("CH", "DHL", 3)]
    [InlineData("US", "UPS", 5)]
    [InlineData("JP", "DHL", 4)]
    public async Task Shipment_has_the_contract_shape_and_carrier_by_country(string country, string carrier, int etaDays)
    {
        var key = $"s-{country}";
        using var response = await simulator.ShipAsync(key, SimulatorFixture.Shipment("order-1", country));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(["shipmentId", "carrier", "etaDays"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Rules.ShipmentId(key), json.RootElement.GetProperty("shipmentId").GetString());
        Assert.StartsWith("shp_", Rules.ShipmentId(key), StringComparison.Ordinal);
        Assert.Equal(carrier, json.RootElement.GetProperty("carrier").GetString());
        Assert.Equal(etaDays, json.RootElement.GetProperty("etaDays").GetInt32());
    }

    [Fact]
    public async Task Same_key_returns_the_first_shipment_and_books_once()
    {
        using var first = await simulator.ShipAsync("s-twice", SimulatorFixture.Shipment("order-2", "NL"));
        using var second = await simulator.ShipAsync("s-twice", SimulatorFixture.Shipment("order-2", "US"));
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await simulator.ShipAsync("s-twice", SimulatorFixture.Shipment("order-2", "DE"));
            return await response.Content.ReadFromJsonAsync(Json.ShipmentResponse);
        }));

        var expected = await first.Content.ReadFromJsonAsync(Json.ShipmentResponse);
        Assert.Equal("PostNL", expected!.Carrier);
        Assert.Equal(expected, await second.Content.ReadFromJsonAsync(Json.ShipmentResponse));
        Assert.All(concurrent, r => Assert.Equal(expected, r));
        var record = await simulator.ShipmentRecordAsync("s-twice");
        Assert.Equal(1, record!.Charges);
        Assert.Equal(22, record.Requests);
        Assert.Equal("NL", record.Request.Country);
        Assert.Equal(JsonValueKind.Array, record.Request.Items!.Value.ValueKind);
    }

    [Fact]
    public async Task Shipment_without_key_or_with_bad_body_is_400_problem()
    {
        using var missing = await simulator.ShipAsync(null, SimulatorFixture.Shipment("order-3", "NL"));
        using var invalid = await simulator.ShipAsync("s-invalid", new { orderId = "order-3", country = "NLD", postcode = "", items = Array.Empty<int>() });

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
        Assert.Equal(
            ["country", "items", "postcode"],
            problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Null(await simulator.ShipmentRecordAsync("s-invalid"));
    }

    [Fact]
    public async Task Message_is_accepted_with_202_and_recorded()
    {
        using var response = await simulator.PostAsync(
            "/messages", null, new { to = "ann@example.com", template = "order-confirmed", data = new { orderId = "order-4" } });
        using var other = await simulator.PostAsync("/messages", null, new { to = "bob@example.com", template = "order-shipped" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync(Json.MessageAccepted);
        var messages = await simulator.Client.GetFromJsonAsync("/admin/messages?to=ann@example.com", Json.ListRecordedMessage);
        var message = Assert.Single(messages!);
        Assert.Equal(accepted!.MessageId, message.MessageId);
        Assert.Equal("order-confirmed", message.Template);
        Assert.Equal("order-4", message.Data!.Value.GetProperty("orderId").GetString());
        Assert.Equal(2, (await simulator.Client.GetFromJsonAsync("/admin/messages", Json.ListRecordedMessage))!.Count);
    }

    [Fact]
    public async Task Message_without_recipient_or_template_is_400_problem()
    {
        using var response = await simulator.PostAsync("/messages", null, new { data = new { } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await simulator.Client.GetFromJsonAsync("/admin/messages", Json.ListRecordedMessage))!);
    }
}
