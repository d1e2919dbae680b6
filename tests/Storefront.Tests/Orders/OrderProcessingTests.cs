using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;

namespace Storefront.Tests.Orders;

[Collection(StorefrontCollection.Name)]
public sealed class OrderProcessingTests(StorefrontStack stack) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task A_message_delivered_twice_charges_ships_and_notifies_once()
    {
        // Slow payments keep the first delivery busy while the second arrives.
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 500 });
        var email = $"{Guid.NewGuid():N}@example.com";
        var mark = stack.HostLog.Mark;
        var id = await stack.PlaceAcceptedAsync(OrderApi.Body(email: email));

        await OrdersQueue().SendMessageAsync(JsonSerializer.Serialize(new { id }));
        var order = await stack.WaitUntilFinishedAsync(id, Patience);
        await OrdersQueue().SendMessageAsync(JsonSerializer.Serialize(new { id }));

        // Three deliveries (placement's, the duplicate, the late one): one does the work, the other two end finding the
        // order finished, the duplicate perhaps after a turn on the queue while the first held the order. The one doing
        // the work sends the confirmation after it marks the order confirmed: wait for that too.
        Assert.True(
            await Eventually.TrueAsync(() => stack.HostLog.Since(mark).Count(r => r.Message.Contains($"item {id} is finished or unknown; nothing to do", StringComparison.Ordinal)) >= 2, Patience),
            "the other deliveries did not end");
        Assert.True(await Eventually.TrueAsync(async () => (await MessagesToAsync(email)).GetArrayLength() > 0, Patience), "no confirmation was sent");

        Assert.Equal("confirmed", order.GetProperty("status").GetString());
        Assert.Equal("captured", order.GetProperty("payment").GetProperty("status").GetString());
        var payment = await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/payments/{id}");
        Assert.Equal(1, payment.GetProperty("charges").GetInt32());
        Assert.Equal("captured", payment.GetProperty("state").GetString());
        Assert.Equal(1, payment.GetProperty("captures").GetInt32());
        Assert.Equal(1, (await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/shipments/{id}")).GetProperty("charges").GetInt32());
        Assert.Single((await MessagesToAsync(email)).EnumerateArray());
        Assert.Equal("confirmed", (await stack.GetOrderAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_declined_payment_rejects_the_order_with_the_reason()
    {
        var id = await stack.PlaceAcceptedAsync(OrderApi.Body(customerId: "decline-42"));

        var order = await stack.WaitUntilFinishedAsync(id, Patience);

        Assert.Equal("rejected", order.GetProperty("status").GetString());
        Assert.Equal("insufficient funds", order.GetProperty("failureReason").GetString());
        Assert.Equal(JsonValueKind.Null, order.GetProperty("shipment").ValueKind);
    }

    [Fact]
    public async Task Payments_down_for_longer_than_the_queues_own_retries_still_confirm_the_order()
    {
        // Five dequeues two seconds apart was the old budget: an outage longer than that must not fail the order.
        await stack.ConfigureServiceAsync("payments", new { errorRate = 1.0 });
        var id = await stack.PlaceAcceptedAsync(OrderApi.Body());
        var waiting = await stack.WaitForOrderAsync(id, o => o.GetProperty("attempts").GetInt32() > 6, Patience);
        Assert.Equal("processing", waiting.GetProperty("status").GetString());
        Assert.Contains("authorizing the payment", waiting.GetProperty("waitingReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, waiting.GetProperty("nextAttemptAt").ValueKind);

        await stack.ConfigureServiceAsync("payments", new { errorRate = 0.0 });
        var order = await stack.WaitUntilFinishedAsync(id, Patience);

        Assert.Equal("confirmed", order.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, order.GetProperty("waitingReason").ValueKind);
        Assert.Equal("captured", (await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/payments/{id}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Payments_down_for_longer_than_the_retry_budget_fail_the_order_without_a_charge()
    {
        await stack.ConfigureServiceAsync("payments", new { errorRate = 1.0 });
        var id = await stack.PlaceAcceptedAsync(OrderApi.Body());

        var order = await stack.WaitUntilFinishedAsync(id, StorefrontStack.RetryBudget + Patience);

        Assert.Equal("failed", order.GetProperty("status").GetString());
        Assert.StartsWith("gave up after retrying", order.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, order.GetProperty("payment").ValueKind);
        Assert.Empty((await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/payments?orderId={id}")).EnumerateArray());
    }

    [Fact]
    public async Task Shipping_refusing_the_order_fails_it_at_once_and_voids_its_authorization()
    {
        // A 4xx is an answer that retrying cannot change.
        await stack.ConfigureServiceAsync("shipping", new { errorRate = 1.0, errorStatus = 422 });
        var id = await stack.PlaceAcceptedAsync(OrderApi.Body());

        var order = await stack.WaitUntilFinishedAsync(id, Patience);

        Assert.Equal("failed", order.GetProperty("status").GetString());
        Assert.StartsWith("booking the shipment", order.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, order.GetProperty("attempts").GetInt32());
        Assert.Equal("voided", order.GetProperty("payment").GetProperty("status").GetString());
        var payment = await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/payments/{id}");
        Assert.Equal("voided", payment.GetProperty("state").GetString());
        Assert.Equal(0, payment.GetProperty("captures").GetInt32());
        Assert.Equal(1, payment.GetProperty("voids").GetInt32());
        var reservation = Assert.Single((await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/reservations?orderId={id}")).EnumerateArray());
        Assert.Equal("released", reservation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task With_storage_down_orders_are_still_accepted_and_all_confirmed_after_it_returns()
    {
        await stack.StopAzuriteAsync();
        Guid[] ids;
        try
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => stack.PlaceAsync(OrderApi.Body())));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            ids = await Task.WhenAll(responses.Select(OrderApi.AcceptedIdAsync));
        }
        finally
        {
            await stack.StartAzuriteAsync();
        }

        foreach (var id in ids)
        {
            Assert.Equal("confirmed", (await stack.WaitUntilFinishedAsync(id, Patience)).GetProperty("status").GetString());
        }
    }

    private async Task<JsonElement> MessagesToAsync(string email) =>
        await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/messages?to={Uri.EscapeDataString(email)}");

    private QueueClient OrdersQueue() =>
        new(stack.StorageConnectionString, "orders", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
}
