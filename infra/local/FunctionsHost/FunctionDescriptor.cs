using System.Text.Json;
using Storefront.FunctionsHost.Rpc;

namespace Storefront.FunctionsHost;

public enum TriggerKind
{
    Http,
    Queue,
    Timer,
    Other,
}

/// <summary>A loaded function as the host sees it: its trigger, read from the worker's metadata.</summary>
public sealed record FunctionDescriptor
{
    public required string Name { get; init; }

    public required string FunctionId { get; init; }

    public required TriggerKind Kind { get; init; }

    /// <summary>The trigger parameter's binding name (the worker binds input_data by it).</summary>
    public required string TriggerName { get; init; }

    public required JsonElement Trigger { get; init; }

    internal RpcFunctionMetadata Metadata { get; init; } = new();

    public string? Property(string name) =>
        HostJson.TryGet(Trigger, name, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.ToString() : null;

    public bool Flag(string name) => HostJson.TryGet(Trigger, name, out var value)
        && (value.ValueKind == JsonValueKind.True || (value.ValueKind == JsonValueKind.String && bool.TryParse(value.GetString(), out var parsed) && parsed));

    /// <summary>HTTP methods, upper case; empty means any method.</summary>
    public IReadOnlyList<string> HttpMethods => HostJson.TryGet(Trigger, "methods", out var methods) && methods.ValueKind == JsonValueKind.Array
        ? methods.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToArray()
        : [];

    public AuthLevel AuthLevel => Property("authLevel")?.ToUpperInvariant() switch
    {
        "ANONYMOUS" => AuthLevel.Anonymous,
        "ADMIN" or "SYSTEM" => AuthLevel.Admin,
        _ => AuthLevel.Function,
    };

    /// <summary>QueueMessage/BinaryData parameters ask for the SDK-type (deferred) binding.</summary>
    public bool SupportsDeferredBinding =>
        HostJson.TryGet(Trigger, "properties", out var properties)
        && HostJson.TryGet(properties, "supportsDeferredBinding", out var value)
        && bool.TryParse(value.ToString(), out var deferred) && deferred;

    internal static FunctionDescriptor From(RpcFunctionMetadata metadata)
    {
        foreach (var raw in metadata.RawBindings)
        {
            using var document = JsonDocument.Parse(raw);
            var binding = document.RootElement;
            var type = HostJson.TryGet(binding, "type", out var t) ? t.GetString() ?? string.Empty : string.Empty;
            if (!type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            return new FunctionDescriptor
            {
                Name = metadata.Name,
                FunctionId = metadata.FunctionId,
                Metadata = metadata,
                Trigger = binding.Clone(),
                TriggerName = HostJson.TryGet(binding, "name", out var n) ? n.GetString() ?? string.Empty : string.Empty,
                Kind = type.ToUpperInvariant() switch
                {
                    "HTTPTRIGGER" => TriggerKind.Http,
                    "QUEUETRIGGER" => TriggerKind.Queue,
                    "TIMERTRIGGER" => TriggerKind.Timer,
                    _ => TriggerKind.Other,
                },
            };
        }

        throw new InvalidOperationException($"Function '{metadata.Name}' has no trigger binding.");
    }
}

public enum AuthLevel
{
    Anonymous,
    Function,
    Admin,
}
