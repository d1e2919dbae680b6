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
        var id = await OrderApi.AcceptedIdAsync(await stack.PlaceAsync(OrderApi.Body(email: email)));

        await OrdersQueue().SendMessageAsync(JsonSerializer.Serialize(new { orderId = id }));
        var order = await stack.WaitUntilFinishedAsync(id, Patience);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await OrdersQueue().SendMessageAsync(JsonSerializer.Serialize(new { orderId = id }));
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal("confirmed", order.GetProperty("status").GetString());
        Assert.Equal(1, (await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/payments/{id}")).GetProperty("charges").GetInt32());
        Assert.Equal(1, (await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/shipments/{id}")).GetProperty("charges").GetInt32());
        Assert.Single((await stack.Simulator.GetFromJsonAsync<JsonElement>($"admin/messages?to={Uri.EscapeDataString(email)}")).EnumerateArray());
        Assert.Equal("confirmed", (await stack.GetOrderAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_declined_payment_rejects_the_order_with_the_reason()
    {
        var id = await OrderApi.AcceptedIdAsync(await stack.PlaceAsync(OrderApi.Body(customerId: "decline-42")));

        var order = await stack.WaitUntilFinishedAsync(id, Patience);

        Assert.Equal("rejected", order.GetProperty("status").GetString());
        Assert.Equal("insufficient funds", order.GetProperty("failureReason").GetString());
        Assert.Equal(JsonValueKind.Null, order.GetProperty("shipment").ValueKind);
    }

    [Fact]
    public async Task Payments_always_failing_send_the_message_to_poison_and_the_order_fails_with_a_reason()
    {
        await stack.ConfigureServiceAsync("payments", new { errorRate = 1.0 });
        var id = await OrderApi.AcceptedIdAsync(await stack.PlaceAsync(OrderApi.Body()));

        var order = await stack.WaitUntilFinishedAsync(id, Patience);

        Assert.Equal("failed", order.GetProperty("status").GetString());
        Assert.StartsWith("Processing failed after", order.GetProperty("failureReason").GetString(), StringComparison.Ordinal);
        await using var command = stack.Database.CreateCommand("SELECT attempts, failed_message FROM orders WHERE id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        // host.json: maxDequeueCount 5, then the poison queue, whose function kept the message.
        Assert.True(reader.GetInt32(0) >= 5, $"only {reader.GetInt32(0)} attempts");
        Assert.Contains(id.ToString(), reader.GetString(1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_storage_down_orders_are_still_accepted_and_all_confirmed_after_it_returns()
    {
        await StorefrontStack.AzuriteAsync("stop");
        Guid[] ids;
        try
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => stack.PlaceAsync(OrderApi.Body())));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            ids = await Task.WhenAll(responses.Select(OrderApi.AcceptedIdAsync));
        }
        finally
        {
            await StorefrontStack.AzuriteAsync("start");
        }

        foreach (var id in ids)
        {
            Assert.Equal("confirmed", (await stack.WaitUntilFinishedAsync(id, Patience)).GetProperty("status").GetString());
        }
    }

    private static QueueClient OrdersQueue() =>
        new(StorefrontStack.StorageConnectionString, "orders", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
}
