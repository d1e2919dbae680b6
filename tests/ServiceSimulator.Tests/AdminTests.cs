using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>The admin API, against a simulator with start-up settings for reviews (errorStatus 502, jitter 1 ms).</summary>
public sealed class AdminTests(ConfiguredFixture simulator) : IClassFixture<ConfiguredFixture>, IAsyncLifetime
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;
    private static readonly ServiceSettings ConfiguredReviews = ServiceSettings.Default with { ErrorStatus = 502, JitterMs = 1 };

    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Services_lists_all_six_with_start_up_settings()
    {
        using var response = await simulator.Client.GetAsync(new Uri("/admin/services", UriKind.Relative));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var settings = json.RootElement.Deserialize(Json.DictionaryStringServiceSettings)!;

        Assert.Equal(SimulatedServices.All, json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(
            ["latencyMs", "jitterMs", "errorRate", "errorStatus", "hangRate"],
            json.RootElement.GetProperty("payments").EnumerateObject().Select(p => p.Name));
        Assert.Equal(ConfiguredReviews, settings[SimulatedServices.Reviews]);
        Assert.All(SimulatedServices.All.Where(s => s != SimulatedServices.Reviews), s => Assert.Equal(ServiceSettings.Default, settings[s]));
    }

    [Fact]
    public async Task Put_is_a_partial_update()
    {
        var afterLatency = await simulator.ConfigureAsync(SimulatedServices.Payments, new ServiceSettingsUpdate(LatencyMs: 5, JitterMs: 2));
        var afterRate = await simulator.ConfigureAsync("PAYMENTS", new ServiceSettingsUpdate(ErrorRate: 0.25, ErrorStatus: 500, HangRate: 0.5));

        Assert.Equal(new ServiceSettings(5, 2, 0, 503, 0), afterLatency);
        Assert.Equal(new ServiceSettings(5, 2, 0.25, 500, 0.5), afterRate);
        Assert.Equal(afterRate, await simulator.Client.GetFromJsonAsync("/admin/services/payments", Json.ServiceSettings));
    }

    [Theory]
    [InlineData("""{"latencyMs":-1}""", "latencyMs")]
    [InlineData("""{"latencyMs":300001}""", "latencyMs")]
    [InlineData("""{"jitterMs":-5}""", "jitterMs")]
    [InlineData("""{"errorRate":1.5}""", "errorRate")]
    [InlineData("""{"errorRate":-0.1}""", "errorRate")]
    [InlineData("""{"errorStatus":200}""", "errorStatus")]
    [InlineData("""{"errorStatus":600}""", "errorStatus")]
    [InlineData("""{"hangRate":2}""", "hangRate")]
    [InlineData("""{"latency":5}""", null)]
    [InlineData("""{"latencyMs":"fast"}""", null)]
    [InlineData("""[1]""", null)]
    [InlineData("""null""", null)]
    [InlineData("""{""", null)]
    public async Task Invalid_settings_are_400_problem_and_change_nothing(string body, string? field)
    {
        using var response = await simulator.Client.PutAsync(
            new Uri("/admin/services/inventory", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _));
        }

        Assert.Equal(ServiceSettings.Default, await simulator.Client.GetFromJsonAsync("/admin/services/inventory", Json.ServiceSettings));
    }

    [Fact]
    public async Task Unknown_service_is_404_problem()
    {
        using var put = await simulator.Client.PutAsJsonAsync("/admin/services/weather", new ServiceSettingsUpdate(LatencyMs: 1), Json.ServiceSettingsUpdate);
        using var get = await simulator.Client.GetAsync(new Uri("/admin/services/weather", UriKind.Relative));
        using var calls = await simulator.Client.GetAsync(new Uri("/admin/calls?service=weather", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, calls.StatusCode);
    }

    [Fact]
    public async Task Start_up_error_status_applies_and_reset_returns_to_start_up_settings()
    {
        await simulator.ConfigureAsync(SimulatedServices.Reviews, new ServiceSettingsUpdate(ErrorRate: 1));
        await simulator.ConfigureAsync(SimulatedServices.Fx, new ServiceSettingsUpdate(LatencyMs: 10));
        using var failed = await simulator.CallAsync(SimulatedServices.Reviews);
        using var payment = await simulator.PayAsync("k-reset", SimulatorFixture.Payment("order-1", "customer-1"));
        using var shipment = await simulator.ShipAsync("s-reset", SimulatorFixture.Shipment("order-1", "NL"));
        using var message = await simulator.CallAsync(SimulatedServices.Notifications);
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);

        await simulator.ResetAsync();

        var settings = await simulator.Client.GetFromJsonAsync("/admin/services", Json.DictionaryStringServiceSettings);
        Assert.Equal(ConfiguredReviews, settings![SimulatedServices.Reviews]);
        Assert.Equal(ServiceSettings.Default, settings[SimulatedServices.Fx]);
        Assert.Empty(await simulator.CallsAsync());
        Assert.Null(await simulator.PaymentRecordAsync("k-reset"));
        Assert.Null(await simulator.ShipmentRecordAsync("s-reset"));
        Assert.Empty((await simulator.Client.GetFromJsonAsync("/admin/messages", Json.ListRecordedMessage))!);
        using var succeeded = await simulator.CallAsync(SimulatedServices.Reviews);
        Assert.Equal(HttpStatusCode.OK, succeeded.StatusCode);
    }

    [Fact]
    public async Task Call_log_records_every_call_and_filters_by_service()
    {
        using var stock = await simulator.CallAsync(SimulatedServices.Inventory);
        using var unknown = await simulator.Client.GetAsync(new Uri("/stock/SKU-99999", UriKind.Relative));
        using var payment = await simulator.PayAsync("k-log", SimulatorFixture.Payment("order-2", "customer-1"));
        using var rates = await simulator.CallAsync(SimulatedServices.Fx);
        using var health = await simulator.Client.GetAsync(new Uri("/health", UriKind.Relative));

        var all = await simulator.CallsAsync();
        var inventory = await simulator.CallsAsync(SimulatedServices.Inventory);
        var payments = await simulator.CallsAsync("Payments");

        Assert.Equal(
            [SimulatedServices.Inventory, SimulatedServices.Inventory, SimulatedServices.Payments, SimulatedServices.Fx],
            all.Select(e => e.Service));
        Assert.Equal(all.Select(e => e.Sequence).Order(), all.Select(e => e.Sequence));
        Assert.Equal([200, 404], inventory.Select(e => e.Status));
        Assert.Equal(["/stock/SKU-00042", "/stock/SKU-99999"], inventory.Select(e => e.Path));
        var pay = Assert.Single(payments);
        Assert.Equal(("POST", "/payments", "k-log", 201), (pay.Method, pay.Path, pay.IdempotencyKey, pay.Status));
        Assert.Equal("/rates", all[^1].Path);
        Assert.Null(all[^1].IdempotencyKey);
        Assert.All(all, e =>
        {
            Assert.Equal(TimeSpan.Zero, e.StartedAt.Offset);
            Assert.True(e.EndedAt >= e.StartedAt);
        });
    }

    [Fact]
    public async Task Call_log_timestamps_are_fixed_width_utc_with_sub_millisecond_precision()
    {
        for (var i = 0; i < 3; i++)
        {
            using var stock = await simulator.CallAsync(SimulatedServices.Inventory);
        }

        using var json = JsonDocument.Parse(await simulator.Client.GetStringAsync(new Uri("/admin/calls", UriKind.Relative)));
        var timestamps = json.RootElement.EnumerateArray()
            .SelectMany(e => new[] { e.GetProperty("startedAt").GetString()!, e.GetProperty("endedAt").GetString()! })
            .ToList();

        Assert.Equal(6, timestamps.Count);
        Assert.All(timestamps, t => Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$", t));
        // 100 ns resolution: six timestamps all on whole milliseconds would be a one-in-10^24 coincidence.
        Assert.Contains(timestamps, t => DateTimeOffset.Parse(t, CultureInfo.InvariantCulture).Ticks % TimeSpan.TicksPerMillisecond != 0);
    }

    [Fact]
    public async Task Delete_calls_clears_the_log_only()
    {
        await simulator.ConfigureAsync(SimulatedServices.Fx, new ServiceSettingsUpdate(JitterMs: 3));
        using var payment = await simulator.PayAsync("k-keep", SimulatorFixture.Payment("order-3", "customer-1"));

        using var deleted = await simulator.Client.DeleteAsync(new Uri("/admin/calls", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await simulator.CallsAsync());
        Assert.NotNull(await simulator.PaymentRecordAsync("k-keep"));
        Assert.Equal(3, (await simulator.Client.GetFromJsonAsync("/admin/services/fx", Json.ServiceSettings))!.JitterMs);
        using var next = await simulator.CallAsync(SimulatedServices.Inventory);
        Assert.Single(await simulator.CallsAsync());
    }
}
