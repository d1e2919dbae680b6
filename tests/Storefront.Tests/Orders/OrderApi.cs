using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

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

    public static async Task<HttpResponseMessage> PlaceAsync(this StorefrontStack stack, object body, string? key = null, bool withFunctionKey = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/orders") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString("N"));
        if (withFunctionKey)
        {
            request.Headers.Add("x-functions-key", stack.Host.Settings.FunctionKey);
        }

        return await stack.Client.SendAsync(request);
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
        var finished = await StorefrontStack.EventuallyAsync(
            async () =>
            {
                order = await stack.GetOrderAsync(id);
                return order.GetProperty("status").GetString() is "confirmed" or "rejected" or "failed";
            },
            within);
        Assert.True(finished, $"order {id} is still {order.GetProperty("status").GetString()}");
        return order;
    }

    public static async Task<Guid> AcceptedIdAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("id").GetGuid();
    }
}
