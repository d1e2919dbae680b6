using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Storefront.Tests.Orders;

[Collection(StorefrontCollection.Name)]
public sealed class OrderAcceptanceTests(StorefrontStack stack) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task An_order_is_accepted_before_its_payment_completes_and_is_confirmed_later()
    {
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 2000 });

        var response = await stack.PlaceRetryingAsync(OrderApi.Body(), Guid.NewGuid().ToString("N"));
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = accepted.GetProperty("id").GetGuid();
        // This order's payment calls only (their Idempotency-Key starts with its id): an earlier test's orders may still
        // be paid in the background. The simulator logs a call when it ends, and this one takes 2 s.
        var paymentsDoneAtAcceptance = (await stack.CallsAsync("payments"))
            .Count(call => call.IdempotencyKey?.StartsWith(id.ToString(), StringComparison.Ordinal) == true);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(0, paymentsDoneAtAcceptance);
        Assert.Equal($"/api/orders/{id}", response.Headers.Location?.ToString());
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Equal("accepted", accepted.GetProperty("status").GetString());
        Assert.Equal("EUR", accepted.GetProperty("currency").GetString());

        var order = await stack.WaitUntilFinishedAsync(id, Patience);
        Assert.Equal("confirmed", order.GetProperty("status").GetString());
        Assert.StartsWith("pay_", order.GetProperty("payment").GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("captured", order.GetProperty("payment").GetProperty("status").GetString());
        Assert.StartsWith("shp_", order.GetProperty("shipment").GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(accepted.GetProperty("total").GetDecimal(), order.GetProperty("total").GetDecimal());
        var line = Assert.Single(order.GetProperty("lines").EnumerateArray().ToArray());
        Assert.Equal(accepted.GetProperty("total").GetDecimal(), line.GetProperty("unitPrice").GetDecimal() * 2);
    }

    [Fact]
    public async Task Twenty_concurrent_identical_posts_with_one_key_create_one_order()
    {
        var key = Guid.NewGuid().ToString("N");
        var body = OrderApi.Body();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => stack.PlaceAsync(body, key)));
        var ids = await Task.WhenAll(responses.Select(OrderApi.AcceptedIdAsync));

        Assert.Single(ids.Distinct());
        Assert.Equal(1L, await CountOrdersAsync(key));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_422_and_creates_nothing()
    {
        var key = Guid.NewGuid().ToString("N");
        await OrderApi.AcceptedIdAsync(await stack.PlaceAsync(OrderApi.Body(quantity: 1), key));

        var reused = await stack.PlaceAsync(OrderApi.Body(quantity: 3), key);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Equal("application/problem+json", reused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1L, await CountOrdersAsync(key));
    }

    [Fact]
    public async Task Orders_need_a_function_key()
    {
        var response = await stack.PlaceAsync(OrderApi.Body(), withFunctionKey: false);
        var read = await stack.Client.GetAsync($"api/orders/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
    }

    [Fact]
    public async Task Insufficient_stock_is_409_and_creates_nothing()
    {
        var key = Guid.NewGuid().ToString("N");

        // The simulator has no stock of SKU-00013.
        var response = await stack.PlaceAsync(OrderApi.Body(sku: "SKU-00013"), key);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(0L, await CountOrdersAsync(key));
    }

    [Theory]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "lines")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":0}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "lines[0].quantity")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":101}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "lines[0].quantity")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":1},{"sku":"SKU-00001","quantity":2}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "lines[1].sku")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-99999","quantity":1}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "lines[0].sku")]
    [InlineData("""{"customerId":"c-1","email":"not-an-email","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":1}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "email")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EURO","lines":[{"sku":"SKU-00001","quantity":1}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "currency")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"XYZ","lines":[{"sku":"SKU-00001","quantity":1}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "currency")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":1}],"shipTo":{"country":"XX","postcode":"1011AB"}}""", "shipTo.country")]
    [InlineData("""{"customerId":"","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":1}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "customerId")]
    [InlineData("""{"customerId":"c-1","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00001","quantity":"two"}],"shipTo":{"country":"NL","postcode":"1011AB"}}""", "lines[0].quantity")]
    public async Task An_invalid_order_is_400_with_an_error_for_the_field_and_creates_nothing(string json, string field)
    {
        var key = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/orders") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        var response = await stack.Client.SendAsync(request);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {problem}");
        Assert.Equal(0L, await CountOrdersAsync(key));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a-key-that-is-far-too-long-to-be-accepted-as-an-idempotency-key-by-the-api")]
    public async Task A_missing_or_malformed_idempotency_key_is_400(string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/orders") { Content = JsonContent.Create(OrderApi.Body()) };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        var response = await stack.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Reading_an_order_by_a_malformed_id_is_400_and_an_unknown_one_404()
    {
        using var malformed = new HttpRequestMessage(HttpMethod.Get, "api/orders/not-a-uuid");
        malformed.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        using var unknown = new HttpRequestMessage(HttpMethod.Get, $"api/orders/{Guid.NewGuid()}");
        unknown.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);

        Assert.Equal(HttpStatusCode.BadRequest, (await stack.Client.SendAsync(malformed)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stack.Client.SendAsync(unknown)).StatusCode);
    }

    private async Task<long> CountOrdersAsync(string key)
    {
        await using var command = stack.Database.CreateCommand("SELECT count(*) FROM orders WHERE idempotency_key = $1");
        command.Parameters.AddWithValue(key);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
