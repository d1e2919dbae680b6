using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.Tests.Catalog;

/// <summary>What a struggling dependency gets from the app: few extra calls, and an open circuit when it is slow.</summary>
[Collection(StorefrontCollection.Name)]
public sealed class DependencyLoadTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public async Task DisposeAsync()
    {
        await stack.ResetSimulatorAsync();
        // Circuits opened here stay open for the break duration; the next test class starts with them closed.
        await stack.RestartWorkerAsync();
    }

    [Fact]
    public async Task Failed_calls_are_hedged_within_the_budget()
    {
        // Every failed primary call asks for a hedge: about 80 of 200 reads at 40% errors, while the budget allows 10
        // plus one per 5 primary calls. The breaker (50%) may open at times, which only lowers the count.
        await stack.ConfigureServiceAsync("inventory", new { errorRate = 0.4, errorStatus = 500 });
        const int Reads = 200;
        for (var i = 0; i < Reads; i++)
        {
            var response = await stack.Client.GetAsync($"api/products/SKU-{i + 3000:D5}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var calls = (await stack.CallsAsync("inventory")).Count;
        Assert.InRange(calls, 1, Reads + 10 + (Reads / 5));
    }

    [Fact]
    public async Task A_slow_dependency_opens_its_circuit()
    {
        // A fresh worker: the successes of earlier tests would still outweigh the failures in the breaker's window.
        await stack.RestartWorkerAsync();
        // Slower than any attempt may take: every attempt times out, which the breaker counts as a failure (unless this
        // machine is so busy that the worker itself runs late, when a timeout is not held against the dependency: so
        // read until a read no longer calls reviews, within a bound, rather than a fixed number of times).
        await stack.ConfigureServiceAsync("reviews", new { latencyMs = 5000 });
        var opened = false;
        var calls = (await stack.CallsAsync("reviews")).Count;
        for (var i = 0; i < 100 && !opened; i++)
        {
            await stack.Client.GetAsync($"api/products/SKU-{i + 3100:D5}");
            var callsAfter = (await stack.CallsAsync("reviews")).Count;
            opened = callsAfter == calls;
            calls = callsAfter;
        }

        Assert.True(opened, "the reviews circuit did not open within 100 reads");

        await stack.Simulator.DeleteAsync("admin/calls");
        var whileOpen = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => stack.Client.GetFromJsonAsync<JsonElement>($"api/products/SKU-{i + 3200:D5}")));

        Assert.Empty(await stack.CallsAsync("reviews"));
        Assert.All(whileOpen, p => Assert.Contains("reviews", p.GetProperty("degraded").EnumerateArray().Select(e => e.GetString())));
    }
}
