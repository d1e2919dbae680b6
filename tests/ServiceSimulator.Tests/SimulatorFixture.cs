using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>The simulator started in-process on a free loopback port; one per test class (classes run in parallel).</summary>
public class SimulatorFixture : IAsyncLifetime
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Extra command-line arguments (configuration) for this fixture's simulator.</summary>
    protected virtual IEnumerable<string> Arguments => [];

    public async Task InitializeAsync()
    {
        _app = SimulatorApp.Create(["--urls", "http://127.0.0.1:0", .. Arguments]);
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        BaseAddress = new Uri(addresses.Single());
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public async Task ResetAsync()
    {
        using var response = await Client.PostAsync(new Uri("/admin/reset", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public async Task<ServiceSettings> ConfigureAsync(string service, ServiceSettingsUpdate update)
    {
        using var response = await Client.PutAsJsonAsync($"/admin/services/{service}", update, Json.ServiceSettingsUpdate);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.ServiceSettings))!;
    }

    public async Task<List<CallLogEntry>> CallsAsync(string? service = null) =>
        (await Client.GetFromJsonAsync(service is null ? "/admin/calls" : $"/admin/calls?service={service}", Json.ListCallLogEntry))!;

    public async Task<PaymentRecord?> PaymentRecordAsync(string idempotencyKey)
    {
        using var response = await Client.GetAsync(new Uri($"/admin/payments/{Uri.EscapeDataString(idempotencyKey)}", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync(Json.PaymentRecord);
    }

    public async Task<ShipmentRecord?> ShipmentRecordAsync(string idempotencyKey)
    {
        using var response = await Client.GetAsync(new Uri($"/admin/shipments/{Uri.EscapeDataString(idempotencyKey)}", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync(Json.ShipmentRecord);
    }

    public Task<HttpResponseMessage> PayAsync(string? idempotencyKey, object body, HttpClient? client = null) =>
        PostAsync("/payments", idempotencyKey, body, client);

    public Task<HttpResponseMessage> ShipAsync(string? idempotencyKey, object body, HttpClient? client = null) =>
        PostAsync("/shipments", idempotencyKey, body, client);

    public Task<HttpResponseMessage> PostAsync(string path, string? idempotencyKey, object body, HttpClient? client = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return (client ?? Client).SendAsync(request);
    }

    /// <summary>A valid call to a service, for tests that apply to all six.</summary>
    public Task<HttpResponseMessage> CallAsync(string service, HttpClient? client = null)
    {
        var key = Guid.NewGuid().ToString("N");
        client ??= Client;
        return service switch
        {
            SimulatedServices.Inventory => client.GetAsync(new Uri("/stock/SKU-00042", UriKind.Relative)),
            SimulatedServices.Reviews => client.GetAsync(new Uri("/reviews/SKU-00042/summary", UriKind.Relative)),
            SimulatedServices.Fx => client.GetAsync(new Uri("/rates?base=USD", UriKind.Relative)),
            SimulatedServices.Payments => PayAsync(key, Payment("order-1", "customer-1"), client),
            SimulatedServices.Shipping => ShipAsync(key, Shipment("order-1", "NL"), client),
            SimulatedServices.Notifications => PostAsync("/messages", null, new { to = "ann@example.com", template = "order-confirmed" }, client),
            _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
        };
    }

    public static object Payment(string orderId, string customerId, decimal amount = 42.50m, string currency = "EUR") =>
        new { orderId, customerId, amount, currency };

    public static object Shipment(string orderId, string country, string postcode = "1011 AB") =>
        new { orderId, country, postcode, items = new[] { new { sku = "SKU-00042", quantity = 2 } } };
}

/// <summary>A simulator with tiny bounds so that the bounds themselves can be tested.</summary>
public sealed class SmallBoundsFixture : SimulatorFixture
{
    protected override IEnumerable<string> Arguments =>
    [
        "--Simulator:KnownProducts=50",
        "--Simulator:CallLogCapacity=5",
        "--Simulator:IdempotencyCapacity=3",
        "--Simulator:MessageLogCapacity=3",
        "--Simulator:MaxHangSeconds=1",
    ];
}

/// <summary>A simulator with start-up service settings (which reset returns to).</summary>
public sealed class ConfiguredFixture : SimulatorFixture
{
    protected override IEnumerable<string> Arguments =>
    [
        "--Simulator:Services:reviews:ErrorStatus=502",
        "--Simulator:Services:Reviews:JitterMs=1",
    ];
}
