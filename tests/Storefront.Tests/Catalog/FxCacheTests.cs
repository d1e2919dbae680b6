using System.Net;

namespace Storefront.Tests.Catalog;

[Collection(StorefrontCollection.Name)]
public sealed class FxCacheTests(StorefrontStack stack) : IAsyncLifetime
{
    /// <summary>
    /// The calls one cache fill may make: its attempt and the one retry the FX client allows, which a cold worker on a
    /// busy machine can need (its first attempt running past the attempt timeout). Without the cache every read calls.
    /// </summary>
    private const int CallsOfOneFill = 2;

    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    /// <summary>
    /// A new worker fills the FX cache while it starts; with FX failing then, it starts with the cache empty (a
    /// failure is not cached), which is the cold cache these tests are about.
    /// </summary>
    internal static async Task RestartWithColdFxCacheAsync(StorefrontStack stack)
    {
        await stack.ConfigureServiceAsync("fx", new { errorRate = 1.0 });
        await stack.RestartWorkerAsync();
        await stack.ResetSimulatorAsync();
    }

    [Fact]
    public async Task A_new_worker_fills_the_fx_cache_before_its_first_request()
    {
        await stack.RestartWorkerAsync();
        await stack.ResetSimulatorAsync();

        var responses = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => stack.Client.GetAsync($"api/products/SKU-{i + 700:D5}?currency=EUR")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Empty(await stack.CallsAsync("fx"));
    }

    [Fact]
    public async Task A_hundred_reads_in_another_currency_after_a_cold_start_fill_the_fx_cache_once()
    {
        await RestartWithColdFxCacheAsync(stack);

        for (var i = 1; i <= 100; i++)
        {
            var response = await stack.Client.GetAsync($"api/products/SKU-{i:D5}?currency=EUR");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.InRange((await stack.CallsAsync("fx")).Count, 1, CallsOfOneFill);
    }

    [Fact]
    public async Task Fifty_concurrent_cold_reads_fill_the_fx_cache_once()
    {
        await RestartWithColdFxCacheAsync(stack);
        // A slow FX answer keeps all fifty requests waiting on the same cache miss.
        await stack.ConfigureServiceAsync("fx", new { latencyMs = 150 });

        var responses = await Task.WhenAll(Enumerable.Range(1, 50).Select(i => stack.Client.GetAsync($"api/products/SKU-{i + 500:D5}?currency=GBP")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.InRange((await stack.CallsAsync("fx")).Count, 1, CallsOfOneFill);
    }
}
