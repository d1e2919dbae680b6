using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Storefront.ServiceSimulator;

namespace Storefront.Tests.Orders;

/// <summary>Calls of the orders API as a client makes them, with the local function key.</summary>
internal static class OrderApi
{
    public static object Body(string sku = "SKU-00001", int quantity = 2, string currency = "EUR", string? customerId = null, string? email = null) => new
    {
        customerId = customerId ?? "c-123",
        email = email ?? $"{Guid.NewGuid():N}@example.com",
        currency,
        lines = new[] { new { sku, quantity } },
        shipTo = new { country = "NL", postcode = "1011AB" },
    };

    public static async Task<HttpResponseMessage> PlaceAsync(this StorefrontStack stack, object body, string? key = null, bool withFunctionKey = true, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/orders") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString("N"));
        if (withFunctionKey)
        {
            request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        }

        return await stack.Client.SendAsync(request, cancellationToken);
    }

    /// <summary>
    /// Places an order as the README tells a client to: a 5xx or no answer is retried with the same Idempotency-Key and
    /// body, after Retry-After when the answer has one (bounded in attempts). Returns the first answer that is not a 5xx.
    /// </summary>
    public static async Task<HttpResponseMessage> PlaceRetryingAsync(this StorefrontStack stack, object body, string key, int maxAttempts = 400)
    {
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan wait;
            try
            {
                var response = await stack.PlaceAsync(body, key);
                if ((int)response.StatusCode < 500 || attempt == maxAttempts)
                {
                    return response;
                }

                wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(250);
                response.Dispose();
            }
            catch (HttpRequestException) when (attempt < maxAttempts)
            {
                wait = TimeSpan.FromMilliseconds(250);
            }

            await Task.Delay(wait);
        }
    }

    /// <summary>Places an order as a client does (retrying a 5xx with its key) and returns the accepted order's id.</summary>
    public static async Task<Guid> PlaceAcceptedAsync(this StorefrontStack stack, object body)
    {
        using var response = await stack.PlaceRetryingAsync(body, Guid.NewGuid().ToString("N"));
        return await AcceptedIdAsync(response);
    }

    /// <summary>Sets the units of a sku that inventory starts from (nothing held or sold).</summary>
    public static async Task SetStartingStockAsync(this StorefrontStack stack, string sku, int starting) =>
        (await stack.Simulator.PutAsJsonAsync($"admin/stock/{sku}", new { starting })).EnsureSuccessStatusCode();

    /// <summary>The stock a client sees in the product read (the inventory service's available units).</summary>
    public static async Task<int> StockShownAsync(this StorefrontStack stack, string sku)
    {
        var product = await stack.Client.GetFromJsonAsync<JsonElement>($"api/products/{sku}");
        return product.GetProperty("stock").GetProperty("available").GetInt32();
    }

    public static async Task<JsonElement> GetOrderAsync(this StorefrontStack stack, Guid id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/orders/{id}");
        request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        using var response = await stack.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Polls the order until it reaches a final status (bounded), and returns it.</summary>
    public static async Task<JsonElement> WaitUntilFinishedAsync(this StorefrontStack stack, Guid id, TimeSpan within)
    {
        JsonElement order = default;
        var finished = await Eventually.TrueAsync(
            async () =>
            {
                order = await stack.GetOrderAsync(id);
                return order.GetProperty("status").GetString() is "confirmed" or "rejected" or "failed";
            },
            within);
        Assert.True(finished, $"order {id} is still {order.GetProperty("status").GetString()}");
        return order;
    }

    /// <summary>Polls the order until it satisfies <paramref name="condition"/> (bounded), and returns it.</summary>
    public static async Task<JsonElement> WaitForOrderAsync(this StorefrontStack stack, Guid id, Func<JsonElement, bool> condition, TimeSpan within)
    {
        JsonElement order = default;
        var reached = await Eventually.TrueAsync(
            async () =>
            {
                order = await stack.GetOrderAsync(id);
                return condition(order);
            },
            within);
        Assert.True(reached, $"order {id} never reached the expected state; last seen: {order}");
        return order;
    }

    /// <summary>
    /// Money follows the order, as the card processor (the simulator) sees it: a confirmed order was captured exactly
    /// once and never voided; a rejected one was declined; a failed one holds no authorization and no capture.
    /// </summary>
    public static async Task AssertMoneyFollowsTheOrderAsync(this StorefrontStack stack, JsonElement order)
    {
        var id = order.GetProperty("id").GetGuid();
        var payments = (await stack.Simulator.GetFromJsonAsync<List<PaymentRecord>>($"admin/payments?orderId={id}"))!;
        Assert.True(payments.Count <= 1, $"order {id} has {payments.Count} payments");
        Assert.All(payments, p => Assert.Equal(1, p.Charges));
        switch (order.GetProperty("status").GetString())
        {
            case "confirmed":
                var captured = Assert.Single(payments);
                Assert.Equal(("captured", 1, 0), (captured.State, captured.Captures, captured.Voids));
                break;
            case "rejected":
                Assert.Equal("declined", Assert.Single(payments).State);
                break;
            case "failed":
                Assert.All(payments, p => Assert.Equal(("voided", 0), (p.State, p.Captures)));
                break;
            default:
                Assert.Fail($"order {id} is not finished: {order}");
                break;
        }
    }

    public static async Task<Guid> AcceptedIdAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("id").GetGuid();
    }
}
