using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.ServiceSimulator.Tests;

public sealed class PaymentsTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private static readonly SimulatorJsonContext Json = SimulatorJsonContext.Default;

    public Task InitializeAsync() => simulator.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Authorizes_with_201_and_a_payment_id_derived_from_the_key()
    {
        using var response = await simulator.PayAsync("k1", SimulatorFixture.Payment("order-1", "customer-1"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("""{"paymentId":"pay_08be0f07b56224c1","status":"authorized"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Customers_starting_with_decline_are_declined_for_insufficient_funds()
    {
        using var declined = await simulator.PayAsync("k-declined", SimulatorFixture.Payment("order-2", "decline-42"));
        using var cased = await simulator.PayAsync("k-cased", SimulatorFixture.Payment("order-3", "Decline-42"));

        Assert.Equal(HttpStatusCode.Created, declined.StatusCode);
        using var json = JsonDocument.Parse(await declined.Content.ReadAsStringAsync());
        Assert.Equal("declined", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("insufficient funds", json.RootElement.GetProperty("reason").GetString());
        Assert.StartsWith("pay_", json.RootElement.GetProperty("paymentId").GetString(), StringComparison.Ordinal);
        Assert.Equal("authorized", (await cased.Content.ReadFromJsonAsync(Json.PaymentResponse))!.Status);
    }

    [Fact]
    public async Task Same_key_twice_returns_the_first_result_and_charges_once()
    {
        using var first = await simulator.PayAsync("k-twice", SimulatorFixture.Payment("order-4", "customer-1"));
        // A different body with the same key: still the first result (a decline would otherwise follow from this customer).
        using var second = await simulator.PayAsync("k-twice", SimulatorFixture.Payment("order-4", "decline-me", 1m));

        var one = await first.Content.ReadFromJsonAsync(Json.PaymentResponse);
        var two = await second.Content.ReadFromJsonAsync(Json.PaymentResponse);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(one, two);
        Assert.Equal("authorized", two!.Status);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());

        var record = await simulator.PaymentRecordAsync("k-twice");
        Assert.NotNull(record);
        Assert.Equal(1, record.Charges);
        Assert.Equal(2, record.Requests);
        Assert.Equal(one, record.Response);
        Assert.Equal(new PaymentRequest("order-4", "customer-1", 42.50m, "EUR"), record.Request);
    }

    [Fact]
    public async Task Twenty_concurrent_calls_with_one_key_charge_once()
    {
        await simulator.ConfigureAsync(SimulatedServices.Payments, new ServiceSettingsUpdate(LatencyMs: 20, JitterMs: 20));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await simulator.PayAsync("k-race", SimulatorFixture.Payment("order-5", $"customer-{i}"));
            return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync(Json.PaymentResponse));
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Single(responses.Select(r => r.Body).Distinct());
        var record = await simulator.PaymentRecordAsync("k-race");
        Assert.Equal(1, record!.Charges);
        Assert.Equal(20, record.Requests);
        Assert.Single(await simulator.Client.GetFromJsonAsync("/admin/payments?orderId=order-5", Json.ListPaymentRecord) ?? []);
    }

    [Fact]
    public async Task Missing_or_blank_idempotency_key_is_400_problem_and_stores_nothing()
    {
        using var missing = await simulator.PayAsync(null, SimulatorFixture.Payment("order-6", "customer-1"));
        using var blank = await simulator.PayAsync(" ", SimulatorFixture.Payment("order-6", "customer-1"));
        using var tooLong = await simulator.PayAsync(new string('k', 256), SimulatorFixture.Payment("order-6", "customer-1"));

        Assert.All([missing, blank, tooLong], r =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        });
        Assert.Empty(await simulator.Client.GetFromJsonAsync("/admin/payments?orderId=order-6", Json.ListPaymentRecord) ?? []);
    }

    [Fact]
    public async Task Invalid_bodies_are_400_problem_and_leave_the_key_unused()
    {
        using var invalid = await simulator.PayAsync("k-invalid", new { orderId = "order-7", customerId = "", amount = -1, currency = "EURO" });
        using var notJson = await simulator.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, new Uri("/payments", UriKind.Relative))
        {
            Headers = { { "Idempotency-Key", "k-invalid" } },
            Content = new StringContent("{not json"),
        });

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        using var problem = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync());
        Assert.Equal(
            ["amount", "currency", "customerId"],
            problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Null(await simulator.PaymentRecordAsync("k-invalid"));

        using var valid = await simulator.PayAsync("k-invalid", SimulatorFixture.Payment("order-7", "customer-1"));
        Assert.Equal(HttpStatusCode.Created, valid.StatusCode);
        Assert.Equal(1, (await simulator.PaymentRecordAsync("k-invalid"))!.Charges);
    }

    [Fact]
    public async Task Unknown_key_in_the_admin_api_is_404_and_records_list_by_order()
    {
        using var unknown = await simulator.Client.GetAsync(new Uri("/admin/payments/nope", UriKind.Relative));
        using var a = await simulator.PayAsync("k-a", SimulatorFixture.Payment("order-8", "customer-1"));
        using var b = await simulator.PayAsync("k-b", SimulatorFixture.Payment("order-8", "customer-1"));
        using var c = await simulator.PayAsync("k-c", SimulatorFixture.Payment("order-9", "customer-1"));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var forOrder = await simulator.Client.GetFromJsonAsync("/admin/payments?orderId=order-8", Json.ListPaymentRecord);
        Assert.Equal(["k-a", "k-b"], forOrder!.Select(r => r.IdempotencyKey).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await simulator.Client.GetFromJsonAsync("/admin/payments", Json.ListPaymentRecord))!.Count);
    }
}
