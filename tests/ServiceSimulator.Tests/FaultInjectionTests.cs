using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>Latency, errors and hangs. Only lower bounds on durations: upper bounds flake on a busy machine.</summary>
public sealed class FaultInjectionTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    public static TheoryData<string> Services => [.. SimulatedServices.All];

    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Latency_is_observable_in_the_call_log(string service)
    {
        await simulator.ConfigureAsync(service, new ServiceSettingsUpdate(LatencyMs: 150, JitterMs: 30));

        using var response = await simulator.CallAsync(service);

        Assert.True(response.IsSuccessStatusCode);
        var entry = Assert.Single(await simulator.CallsAsync(service));
        Assert.Equal((int)response.StatusCode, entry.Status);
        Assert.True(entry.Duration >= TimeSpan.FromMilliseconds(150), $"{service} took {entry.Duration.TotalMilliseconds} ms");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Error_rate_1_answers_the_configured_status_with_a_problem(string service)
    {
        await simulator.ConfigureAsync(service, new ServiceSettingsUpdate(ErrorRate: 1));
        using var defaultStatus = await simulator.CallAsync(service);
        await simulator.ConfigureAsync(service, new ServiceSettingsUpdate(ErrorStatus: 429));
        using var configuredStatus = await simulator.CallAsync(service);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, defaultStatus.StatusCode);
        Assert.Equal("application/problem+json", defaultStatus.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.TooManyRequests, configuredStatus.StatusCode);
        using var problem = JsonDocument.Parse(await configuredStatus.Content.ReadAsStringAsync());
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal([503, 429], (await simulator.CallsAsync(service)).Select(e => e.Status));
    }

    [Fact]
    public async Task Failed_payments_and_shipments_touch_no_store()
    {
        await simulator.ConfigureAsync(SimulatedServices.Payments, new ServiceSettingsUpdate(ErrorRate: 1));
        await simulator.ConfigureAsync(SimulatedServices.Shipping, new ServiceSettingsUpdate(ErrorRate: 1, ErrorStatus: 500));

        using var failedPayment = await simulator.PayAsync("k-retry", SimulatorFixture.Payment("order-1", "customer-1"));
        using var failedShipment = await simulator.ShipAsync("s-retry", SimulatorFixture.Shipment("order-1", "NL"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failedPayment.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, failedShipment.StatusCode);
        Assert.Null(await simulator.PaymentRecordAsync("k-retry"));
        Assert.Null(await simulator.ShipmentRecordAsync("s-retry"));

        await simulator.ConfigureAsync(SimulatedServices.Payments, new ServiceSettingsUpdate(ErrorRate: 0));
        using var retried = await simulator.PayAsync("k-retry", SimulatorFixture.Payment("order-1", "customer-1"));

        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.False(retried.Headers.Contains("Idempotent-Replayed"));
        var record = await simulator.PaymentRecordAsync("k-retry");
        Assert.Equal(1, record!.Charges);
        Assert.Equal(1, record.Requests);
    }

    [Fact]
    public async Task Hang_rate_1_outlasts_the_client_and_is_logged_as_499()
    {
        await simulator.ConfigureAsync(SimulatedServices.Inventory, new ServiceSettingsUpdate(HangRate: 1));
        using var impatient = new HttpClient { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(1) };

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync(new Uri("/stock/SKU-00001", UriKind.Relative)));

        Assert.True(
            await Eventually.TrueAsync(async () => (await simulator.CallsAsync(SimulatedServices.Inventory)).Count > 0, TimeSpan.FromSeconds(30)),
            "The abandoned call was never logged.");
        var entry = Assert.Single(await simulator.CallsAsync(SimulatedServices.Inventory));
        Assert.Equal(499, entry.Status);
        Assert.True(entry.Duration >= TimeSpan.FromMilliseconds(500), $"Ended after only {entry.Duration.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Hanging_payment_abandoned_by_the_client_charges_nothing()
    {
        await simulator.ConfigureAsync(SimulatedServices.Payments, new ServiceSettingsUpdate(HangRate: 1));
        using var impatient = new HttpClient { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(1) };

        await Assert.ThrowsAsync<TaskCanceledException>(() =>
            simulator.PayAsync("k-hang", SimulatorFixture.Payment("order-2", "customer-1"), impatient));

        Assert.True(await Eventually.TrueAsync(
            async () => (await simulator.CallsAsync(SimulatedServices.Payments)).Any(e => e.Status == 499), TimeSpan.FromSeconds(30)));
        var entry = Assert.Single(await simulator.CallsAsync(SimulatedServices.Payments));
        Assert.Equal("k-hang", entry.IdempotencyKey);
        Assert.Null(await simulator.PaymentRecordAsync("k-hang"));
    }

    [Fact]
    public async Task Client_leaving_during_latency_is_logged_as_499()
    {
        await simulator.ConfigureAsync(SimulatedServices.Fx, new ServiceSettingsUpdate(LatencyMs: 60_000));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            simulator.Client.GetAsync(new Uri("/rates", UriKind.Relative), cancel.Token));

        Assert.True(await Eventually.TrueAsync(
            async () => (await simulator.CallsAsync(SimulatedServices.Fx)).Any(e => e.Status == 499), TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Other_services_are_unaffected_by_one_services_faults()
    {
        await simulator.ConfigureAsync(SimulatedServices.Reviews, new ServiceSettingsUpdate(ErrorRate: 1));

        using var stock = await simulator.CallAsync(SimulatedServices.Inventory);
        using var reviews = await simulator.CallAsync(SimulatedServices.Reviews);

        Assert.Equal(HttpStatusCode.OK, stock.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reviews.StatusCode);
        var settings = await simulator.Client.GetFromJsonAsync("/admin/services", SimulatorJsonContext.Default.DictionaryStringServiceSettings);
        Assert.Equal(ServiceSettings.Default, settings![SimulatedServices.Inventory]);
    }
}
