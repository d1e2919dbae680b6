using System.Globalization;
using System.Text.Json;
using Storefront.FunctionsHost.Http;

namespace Storefront.FunctionsHost;

/// <summary>The parts of host.json the local host honours, with the real host's defaults.</summary>
public sealed record HostJson
{
    public string RoutePrefix { get; init; } = "api";

    public QueueOptions Queues { get; init; } = new();

    public HttpThrottleOptions HttpThrottles { get; init; } = new();

    /// <summary>
    /// The real host's default functionTimeout on every plan but (legacy) Consumption, Flex Consumption included
    /// (ScriptJobHostOptionsSetup.DefaultFunctionTimeout).
    /// </summary>
    public static readonly TimeSpan DefaultFunctionTimeout = TimeSpan.FromMinutes(30);

    /// <summary>The shortest functionTimeout the real host accepts (ScriptJobHostOptionsSetup.MinFunctionTimeout).</summary>
    public static readonly TimeSpan MinFunctionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>host.json functionTimeout: 30 minutes when unset; null ("-1") means unbounded, which Flex Consumption allows.</summary>
    public TimeSpan? FunctionTimeout { get; init; } = DefaultFunctionTimeout;

    public static async Task<HostJson> LoadAsync(string appDirectory, CancellationToken cancellationToken)
    {
        var path = Path.Combine(appDirectory, "host.json");
        if (!File.Exists(path))
        {
            return new HostJson();
        }

        await using var stream = File.OpenRead(path);
        using var document = await JsonDocument.ParseAsync(
            stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }, cancellationToken).ConfigureAwait(false);
        return Parse(document.RootElement);
    }

    internal static HostJson Parse(JsonElement root)
    {
        var result = new HostJson();
        if (TryGet(root, "functionTimeout", out var timeout) && timeout.ValueKind == JsonValueKind.String)
        {
            var limit = ParseTimeSpan(timeout.GetString()!);
            if (limit == TimeSpan.FromDays(-1))
            {
                result = result with { FunctionTimeout = null };
            }
            else if (limit < MinFunctionTimeout)
            {
                throw new InvalidOperationException($"host.json: FunctionTimeout must be greater than {MinFunctionTimeout} and less than {TimeSpan.MaxValue}.");
            }
            else
            {
                result = result with { FunctionTimeout = limit };
            }
        }

        if (!TryGet(root, "extensions", out var extensions))
        {
            return result;
        }

        if (TryGet(extensions, "http", out var http) && TryGet(http, "routePrefix", out var prefix))
        {
            result = result with { RoutePrefix = prefix.GetString()?.Trim('/') ?? string.Empty };
        }

        if (http.ValueKind == JsonValueKind.Object)
        {
            result = result with { HttpThrottles = HttpThrottleOptions.Parse(http) };
        }

        if (TryGet(extensions, "queues", out var queues))
        {
            result = result with { Queues = QueueOptions.Parse(queues) };
        }

        return result;
    }

    internal static bool TryGet(JsonElement element, string name, out JsonElement value)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = property.Value;
                    return true;
                }
            }
        }

        value = default;
        return false;
    }

    internal static TimeSpan ParseTimeSpan(string text) => TimeSpan.Parse(text, CultureInfo.InvariantCulture);
}

/// <summary>
/// host.json extensions.queues, with the Storage Queues extension's defaults; a value out of its range stops
/// the host at start with the extension's own message (QueuesOptions property setters).
/// </summary>
public sealed record QueueOptions
{
    public const int MaxBatchSize = 32;

    public int BatchSize { get; init; } = 16;

    /// <summary>Null means the extension's default: batchSize / 2 times the processor count.</summary>
    public int? NewBatchThreshold { get; init; }

    public TimeSpan MaxPollingInterval { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.Zero;

    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>"base64" (the default) or "none".</summary>
    public bool Base64Encoding { get; init; } = true;

    public static TimeSpan MinimumPollingInterval => TimeSpan.FromMilliseconds(100);

    public int EffectiveNewBatchThreshold => NewBatchThreshold ?? BatchSize / 2 * Environment.ProcessorCount;

    internal static QueueOptions Parse(JsonElement queues)
    {
        var options = new QueueOptions();
        if (HostJson.TryGet(queues, "batchSize", out var batchSize))
        {
            var value = batchSize.GetInt32();
            Require(value is > 0 and <= MaxBatchSize, "batchSize", $"Specified argument was out of the range of valid values (1 to {MaxBatchSize}). (Parameter 'value')");
            options = options with { BatchSize = value };
        }

        if (HostJson.TryGet(queues, "newBatchThreshold", out var threshold))
        {
            var value = threshold.GetInt32();
            Require(value >= 0, "newBatchThreshold", "Specified argument was out of the range of valid values (0 or more). (Parameter 'value')");
            options = options with { NewBatchThreshold = value };
        }

        if (HostJson.TryGet(queues, "maxPollingInterval", out var polling))
        {
            var interval = polling.ValueKind == JsonValueKind.Number
                ? TimeSpan.FromMilliseconds(polling.GetDouble())
                : HostJson.ParseTimeSpan(polling.GetString()!);
            Require(interval >= MinimumPollingInterval, "maxPollingInterval", $"MaxPollingInterval must not be less than {MinimumPollingInterval}. (Parameter 'value')");
            options = options with { MaxPollingInterval = interval };
        }

        if (HostJson.TryGet(queues, "visibilityTimeout", out var visibility))
        {
            options = options with { VisibilityTimeout = HostJson.ParseTimeSpan(visibility.GetString()!) };
        }

        if (HostJson.TryGet(queues, "maxDequeueCount", out var maxDequeue))
        {
            var value = maxDequeue.GetInt32();
            Require(value >= 1, "maxDequeueCount", "MaxDequeueCount must not be less than 1. (Parameter 'value')");
            options = options with { MaxDequeueCount = value };
        }

        if (HostJson.TryGet(queues, "messageEncoding", out var encoding))
        {
            var value = encoding.GetString();
            options = options with
            {
                Base64Encoding = value?.ToUpperInvariant() switch
                {
                    "BASE64" => true,
                    "NONE" => false,
                    _ => throw new InvalidOperationException($"host.json: unknown queues.messageEncoding '{value}'."),
                },
            };
        }

        return options;
    }

    private static void Require(bool valid, string setting, string message)
    {
        if (!valid)
        {
            throw new InvalidOperationException($"host.json extensions.queues.{setting}: {message}");
        }
    }
}
