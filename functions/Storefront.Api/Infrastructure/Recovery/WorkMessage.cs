using System.Text.Json;

namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>
/// What the <c>orders</c> and <c>reports</c> queues carry: the id of the row to work on (the row itself is read from
/// the database) and how many times this piece of work was scheduled again after a transient failure, which
/// sets the next backoff. <see cref="PoisonRequeues"/> counts trips through the poison queue.
/// </summary>
public sealed record WorkMessage(Guid Id, int Attempt = 0, int PoisonRequeues = 0)
{
    private const int MaxLoggedLength = 500;

    public string ToJson() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);

    /// <summary>The message, or null when it is not a work message (it is logged shortened, never thrown at the caller).</summary>
    public static WorkMessage? TryParse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkMessage>(text, JsonSerializerOptions.Web) is { Id: var id, Attempt: >= 0, PoisonRequeues: >= 0 } message && id != Guid.Empty
                ? message
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A message's text shortened for a log line.</summary>
    public static string ForLog(string text) => text.Length > MaxLoggedLength ? text[..MaxLoggedLength] + "…" : text;
}
