using System.Net;
using System.Text.Json;
using Storefront.Tests.Orders;

namespace Storefront.Tests.OpenApi;

[Collection(StorefrontCollection.Name)]
public sealed class OrderContractTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task Accepting_and_reading_an_order_are_exchanges_the_document_describes()
    {
        var contract = await ApiContract.FetchAsync(stack.Client);

        var body = OrderApi.Body();
        using var placed = await stack.PlaceAsync(body);
        var accepted = await contract.AssertConformsAsync(placed, Json(body));
        Assert.Equal(HttpStatusCode.Accepted, placed.StatusCode);

        var id = Guid.Parse(accepted!["id"]!.GetValue<string>());
        await stack.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(60));
        using var read = new HttpRequestMessage(HttpMethod.Get, $"api/orders/{id}");
        read.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        using var order = await stack.Client.SendAsync(read);
        await contract.AssertConformsAsync(order);
        Assert.Equal(HttpStatusCode.OK, order.StatusCode);
    }

    [Fact]
    public async Task Refused_orders_are_exchanges_the_document_describes()
    {
        var contract = await ApiContract.FetchAsync(stack.Client);

        var invalidBody = new { customerId = "c-1", email = "x", currency = "EUR", lines = Array.Empty<object>(), shipTo = new { country = "NL", postcode = "1011AB" } };
        using var invalid = await stack.PlaceAsync(invalidBody);
        await contract.AssertConformsAsync(invalid, Json(invalidBody));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);

        var shortBody = OrderApi.Body(sku: "SKU-00013");
        using var shortOfStock = await stack.PlaceAsync(shortBody);
        await contract.AssertConformsAsync(shortOfStock, Json(shortBody));
        Assert.Equal(HttpStatusCode.Conflict, shortOfStock.StatusCode);

        var noKeyBody = OrderApi.Body();
        using var noKey = await stack.PlaceAsync(noKeyBody, withFunctionKey: false);
        await contract.AssertConformsAsync(noKey, Json(noKeyBody));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);

        var key = Guid.NewGuid().ToString("N");
        (await stack.PlaceAsync(OrderApi.Body(quantity: 1), key)).Dispose();
        var reusedBody = OrderApi.Body(quantity: 2);
        using var reused = await stack.PlaceAsync(reusedBody, key);
        await contract.AssertConformsAsync(reused, Json(reusedBody));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
    }

    private static string Json(object body) => JsonSerializer.Serialize(body, JsonSerializerOptions.Web);
}
