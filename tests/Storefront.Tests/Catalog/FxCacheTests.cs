using System.Net;

namespace Storefront.Tests.Catalog;

[Collection(StorefrontCollection.Name)]
public sealed class FxCacheTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task A_hundred_reads_in_another_currency_after_a_cold_start_call_fx_at_most_once()
    {
        await stack.RestartWorkerAsync();
        await stack.ResetSimulatorAsync();

        for (var i = 1; i <= 100; i++)
        {
            var response = await stack.Client.GetAsync($"api/products/SKU-{i:D5}?currency=EUR");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.InRange((await stack.CallsAsync("fx")).Count, 1, 1);
    }

    [Fact]
    public async Task Fifty_concurrent_cold_reads_call_fx_at_most_once()
    {
        await stack.RestartWorkerAsync();
        await stack.ResetSimulatorAsync();
        // A slow FX answer keeps all fifty requests waiting on the same cache miss.
        await stack.ConfigureServiceAsync("fx", new { latencyMs = 150 });

        var responses = await Task.WhenAll(Enumerable.Range(1, 50).Select(i => stack.Client.GetAsync($"api/products/SKU-{i + 500:D5}?currency=GBP")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(await stack.CallsAsync("fx"));
    }
}
