using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.Tests.Catalog;

/// <summary>A new worker answers whole from its first request: it warms its pool, connections and FX cache before it is ready.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class ColdStartTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    [Fact]
    public async Task The_first_read_of_a_new_worker_is_whole()
    {
        await KillWorkerAndWaitForTheNextAsync();

        var response = await stack.Client.GetAsync("api/products/SKU-00321?currency=EUR");
        var product = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(product.GetProperty("degraded").EnumerateArray());
    }

    [Fact]
    public async Task Fifty_concurrent_reads_on_a_new_worker_all_answer_200()
    {
        await KillWorkerAndWaitForTheNextAsync();

        var responses = await Task.WhenAll(Enumerable.Range(1, 50).Select(i => stack.Client.GetAsync($"api/products/SKU-{i + 2000:D5}?currency=EUR")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    /// <summary>Unlike <see cref="StorefrontStack.RestartWorkerAsync"/>, sends nothing to the new worker before the test does.</summary>
    private async Task KillWorkerAndWaitForTheNextAsync()
    {
        var restarts = stack.Host.WorkerRestarts;
        Process.GetProcessById(stack.Host.WorkerProcessId!.Value).Kill();
        Assert.True(
            await Eventually.TrueAsync(() => Task.FromResult(stack.Host.WorkerRestarts > restarts), TimeSpan.FromSeconds(30)),
            "the host did not restart the worker");
    }
}
