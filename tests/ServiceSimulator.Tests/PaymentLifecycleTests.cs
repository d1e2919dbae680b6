using System.Net;
using System.Net.Http.Json;

namespace Storefront.ServiceSimulator.Tests;

/// <summary>Capture and void as a card processor runs them: once each, only from an authorization, idempotent by key.</summary>
public sealed class PaymentLifecycleTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_authorized_payment_is_captured_once_and_a_repeated_capture_with_its_key_replays()
    {
        var paymentId = await AuthorizeAsync("order-c1", "customer-1");

        using var first = await simulator.PostAsync($"/payments/{paymentId}/capture", "order-c1:capture", new { orderId = "order-c1" });
        using var replay = await simulator.PostAsync($"/payments/{paymentId}/capture", "order-c1:capture", new { orderId = "order-c1" });
        using var another = await simulator.PostAsync($"/payments/{paymentId}/capture", "someone-else", new { orderId = "order-c1" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(new PaymentStateResponse(paymentId, "captured"), await first.Content.ReadFromJsonAsync(Json.PaymentStateResponse));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.Conflict, another.StatusCode);
        var record = (await simulator.PaymentRecordAsync("order-c1"))!;
        Assert.Equal(("captured", 1, 0), (record.State, record.Captures, record.Voids));
    }

    [Fact]
    public async Task A_void_releases_an_uncaptured_authorization_and_then_nothing_can_capture_it()
    {
        var paymentId = await AuthorizeAsync("order-v1", "customer-1");

        using var voided = await simulator.PostAsync($"/payments/{paymentId}/void", "order-v1:void", new { orderId = "order-v1" });
        using var capture = await simulator.PostAsync($"/payments/{paymentId}/capture", "order-v1:capture", new { orderId = "order-v1" });

        Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, capture.StatusCode);
        Assert.Equal("application/problem+json", capture.Content.Headers.ContentType?.MediaType);
        var record = (await simulator.PaymentRecordAsync("order-v1"))!;
        Assert.Equal(("voided", 0, 1), (record.State, record.Captures, record.Voids));
    }

    [Fact]
    public async Task A_captured_payment_cannot_be_voided_and_a_declined_one_can_be_neither()
    {
        var captured = await AuthorizeAsync("order-x1", "customer-1");
        var declined = await AuthorizeAsync("order-x2", "decline-7");
        (await simulator.PostAsync($"/payments/{captured}/capture", "order-x1:capture", new { orderId = "order-x1" })).Dispose();

        using var voidCaptured = await simulator.PostAsync($"/payments/{captured}/void", "order-x1:void", new { orderId = "order-x1" });
        using var captureDeclined = await simulator.PostAsync($"/payments/{declined}/capture", "order-x2:capture", new { orderId = "order-x2" });
        using var voidDeclined = await simulator.PostAsync($"/payments/{declined}/void", "order-x2:void", new { orderId = "order-x2" });

        Assert.Equal(HttpStatusCode.Conflict, voidCaptured.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, captureDeclined.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, voidDeclined.StatusCode);
        Assert.Equal("captured", (await simulator.PaymentRecordAsync("order-x1"))!.State);
        Assert.Equal("declined", (await simulator.PaymentRecordAsync("order-x2"))!.State);
    }

    [Fact]
    public async Task Concurrent_captures_with_one_key_capture_once()
    {
        var paymentId = await AuthorizeAsync("order-r1", "customer-1");

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            simulator.PostAsync($"/payments/{paymentId}/capture", "order-r1:capture", new { orderId = "order-r1" })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, (await simulator.PaymentRecordAsync("order-r1"))!.Captures);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task An_unknown_payment_is_404_a_missing_key_400_and_injected_faults_act_on_nothing()
    {
        var paymentId = await AuthorizeAsync("order-f1", "customer-1");
        using var unknown = await simulator.PostAsync("/payments/pay_unknown/capture", "k", new { });
        using var keyless = await simulator.PostAsync($"/payments/{paymentId}/capture", null, new { });
        await simulator.ConfigureAsync("payments", new ServiceSettingsUpdate(ErrorRate: 1.0));
        using var faulted = await simulator.PostAsync($"/payments/{paymentId}/capture", "order-f1:capture", new { });

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, keyless.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.StatusCode);
        Assert.Equal("authorized", (await simulator.PaymentRecordAsync("order-f1"))!.State);
    }

    private async Task<string> AuthorizeAsync(string orderId, string customerId)
    {
        using var response = await simulator.PayAsync(orderId, SimulatorFixture.Payment(orderId, customerId));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(Json.PaymentResponse))!.PaymentId;
    }
}
