using System.Text.Json;

namespace Storefront.FunctionsHost;

/// <summary>
/// What this host can run: HTTP (through the worker's ASP.NET Core integration), queue and timer triggers,
/// and the HTTP response binding. Anything else (blob or Service Bus triggers, input or output bindings,
/// HttpRequestData functions) would be ignored or fail on every call, so the host refuses to start
/// instead and names the function and the binding.
/// </summary>
internal static class FunctionSupport
{
    /// <param name="workerServesHttp">Whether the worker announced its own HTTP endpoint (ConfigureFunctionsWebApplication).</param>
    public static void EnsureRunnable(IEnumerable<FunctionDescriptor> functions, bool workerServesHttp)
    {
        var problems = new List<string>();
        foreach (var function in functions)
        {
            if (function.Kind == TriggerKind.Http && !workerServesHttp)
            {
                problems.Add($"Function '{function.Name}': HTTP functions need the worker's ASP.NET Core integration (ConfigureFunctionsWebApplication), which this host forwards requests to.");
            }

            if (function.Kind == TriggerKind.Other)
            {
                problems.Add($"Function '{function.Name}': trigger '{function.Property("type")}' is not supported by this host (HTTP, queue and timer triggers are).");
            }

            foreach (var raw in function.Metadata.RawBindings)
            {
                using var document = JsonDocument.Parse(raw);
                var binding = document.RootElement;
                var type = HostJson.TryGet(binding, "type", out var t) ? t.GetString() ?? string.Empty : string.Empty;
                var direction = HostJson.TryGet(binding, "direction", out var d) ? d.GetString() ?? string.Empty : string.Empty;
                var isTrigger = type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase);
                var isHttpResponse = string.Equals(type, "http", StringComparison.OrdinalIgnoreCase) && string.Equals(direction, "out", StringComparison.OrdinalIgnoreCase);
                if (!isTrigger && !isHttpResponse)
                {
                    var name = HostJson.TryGet(binding, "name", out var n) ? n.GetString() : null;
                    problems.Add($"Function '{function.Name}': binding '{name}' ({type}, {direction}) is not supported by this host; only triggers and the HTTP response are.");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        }
    }
}
