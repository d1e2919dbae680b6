using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

/// <summary>A POST carrying an <c>Idempotency-Key</c>, whose JSON answer is required.</summary>
internal static class IdempotentPost
{
    public static async Task<TResponse> SendAsync<TResponse>(HttpClient http, string path, string idempotencyKey, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<TResponse>(cancellationToken)
            ?? throw new HttpRequestException($"POST /{path} answered with an empty body.");
    }
}
