using Storefront.Tests.Orders;

namespace Storefront.Tests.Reliability;

[Collection(StorefrontCollection.Name)]
public sealed class WorkerCrashTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task Killing_the_worker_with_fifty_orders_in_flight_loses_none_and_charges_each_once()
    {
        // Slow payments keep many orders mid-processing when the worker dies.
        await stack.ConfigureServiceAsync("payments", new { latencyMs = 400 });
        var ids = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => stack.PlaceAcceptedAsync(OrderApi.Body())));
        await Eventually.TrueAsync(async () => (await stack.CallsAsync("payments")).Count >= 5, TimeSpan.FromSeconds(30));

        await stack.RestartWorkerAsync();

        foreach (var id in ids)
        {
            // Orders whose invocation died are taken over once their lease, no longer renewed, runs out.
            var order = await stack.WaitUntilFinishedAsync(id, TimeSpan.FromSeconds(120));
            Assert.Equal("confirmed", order.GetProperty("status").GetString());
            await stack.AssertMoneyFollowsTheOrderAsync(order);
        }
    }
}
