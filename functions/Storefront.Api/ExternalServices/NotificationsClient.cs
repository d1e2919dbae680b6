using System.Net.Http.Json;

namespace Storefront.Api.ExternalServices;

/// <summary>Notifications: <c>POST /messages</c>.</summary>
public sealed class NotificationsClient(HttpClient http)
{
    public const string ServiceName = "Notifications";

    public async Task SendAsync(string to, string template, object data, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("messages", new { to, template, data }, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
