using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Storefront.FunctionsHost.Http;

/// <summary>
/// host.json <c>extensions.http</c> throttles, with the real host's meaning (azure-functions-host
/// <c>HttpThrottleMiddleware</c>, <c>HttpRequestQueue</c>, <c>HostPerformanceManager</c>): -1 (the default
/// outside Windows Consumption) is unbounded; either bound turns the request queue on.
/// </summary>
public sealed record HttpThrottleOptions
{
    public const int Unbounded = -1;

    /// <summary>Requests run at the same time; the rest wait in the queue, first come first served.</summary>
    public int MaxConcurrentRequests { get; init; } = Unbounded;

    /// <summary>Requests queued or running; one more is answered 429 at once.</summary>
    public int MaxOutstandingRequests { get; init; } = Unbounded;

    /// <summary>Answer 429 while the app's sandbox counters are past <see cref="HttpThrottle.CounterThreshold"/> of their limits.</summary>
    public bool DynamicThrottlesEnabled { get; init; }

    public bool QueueEnabled => MaxConcurrentRequests != Unbounded || MaxOutstandingRequests != Unbounded;

    public bool Enabled => QueueEnabled || DynamicThrottlesEnabled;

    internal static HttpThrottleOptions Parse(JsonElement http)
    {
        var options = new HttpThrottleOptions();
        if (HostJson.TryGet(http, "maxConcurrentRequests", out var concurrent))
        {
            options = options with { MaxConcurrentRequests = Bound(concurrent.GetInt32(), "maxConcurrentRequests") };
        }

        if (HostJson.TryGet(http, "maxOutstandingRequests", out var outstanding))
        {
            options = options with { MaxOutstandingRequests = Bound(outstanding.GetInt32(), "maxOutstandingRequests") };
        }

        if (HostJson.TryGet(http, "dynamicThrottlesEnabled", out var dynamic))
        {
            options = options with { DynamicThrottlesEnabled = dynamic.GetBoolean() };
        }

        return options;
    }

    private static int Bound(int value, string name) => value == Unbounded || value >= 1
        ? value
        : throw new InvalidOperationException($"host.json: extensions.http.{name} is -1 (unbounded) or at least 1, not {value}.");
}

/// <summary>
/// The real host's HTTP throttle for function requests (admin requests pass): a bounded queue in front of a bounded
/// number of running requests, and, when dynamic throttles are on, a periodic look at the sandbox counters. A request
/// refused answers <c>429</c> with <c>X-FUNCTION-SCALEOUT: 1</c> and no body, before it costs anything else.
/// The sandbox counters are the JSON the platform puts in <c>WEBSITE_COUNTERS_APP</c>; where it is not set (Linux
/// plans, a local machine) there is nothing to exceed, as in the real host.
/// </summary>
internal sealed partial class HttpThrottle
{
    public const string ScaleOutHeader = "X-FUNCTION-SCALEOUT";
    public const string CountersSetting = "WEBSITE_COUNTERS_APP";
    public const float CounterThreshold = 0.80f;
    public static readonly TimeSpan PerformanceCheckInterval = TimeSpan.FromSeconds(15);

    private static readonly (string Name, string Value, string Limit)[] Counters =
    [
        ("ActiveConnections", "ActiveConnections", "ActiveConnectionLimit"),
        ("Connections", "Connections", "ConnectionLimit"),
        ("Threads", "Threads", "ThreadLimit"),
        ("Processes", "Processes", "ProcessLimit"),
        ("NamedPipes", "NamedPipes", "NamedPipeLimit"),
        ("Sections", "Sections", "SectionLimit"),
        ("RemoteDirMonitors", "RemoteDirMonitors", "RemoteDirMonitorLimit"),
    ];

    private readonly HttpThrottleOptions _options;
    private readonly Func<string?> _counters;
    private readonly SemaphoreSlim? _running;
    private readonly ILogger _logger;
    private readonly Lock _checkGate = new();
    private int _outstanding;
    private long _rejectedSinceLog;
    private long _lastQueueFullLog;
    private long _lastCheck;
    private bool _rejectAll;

    /// <param name="counters">Reads the current sandbox counters JSON (null when there are none).</param>
    public HttpThrottle(HttpThrottleOptions options, Func<string?> counters, ILogger logger)
    {
        _options = options;
        _counters = counters;
        _logger = logger;
        _running = options.MaxConcurrentRequests == HttpThrottleOptions.Unbounded ? null : new SemaphoreSlim(options.MaxConcurrentRequests);
    }

    /// <summary>Requests queued or running now.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (_options.DynamicThrottlesEnabled && CountersExceeded())
        {
            Reject(context);
            return;
        }

        if (!_options.QueueEnabled)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var outstanding = Interlocked.Increment(ref _outstanding);
        try
        {
            if (_options.MaxOutstandingRequests != HttpThrottleOptions.Unbounded && outstanding > _options.MaxOutstandingRequests)
            {
                LogQueueFullAtMostEverySecond();
                Reject(context);
                return;
            }

            if (_running is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            try
            {
                await _running.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client went away while queued: nothing ran, nothing to answer.
                return;
            }

            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                _running.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }

    internal static IReadOnlyList<string> ExceededCounters(string? countersJson)
    {
        if (string.IsNullOrWhiteSpace(countersJson))
        {
            return [];
        }

        // The platform's value can carry a stray character after the closing brace (the real host trims it too).
        var end = countersJson.LastIndexOf('}');
        if (end <= 0)
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(countersJson.AsMemory(0, end + 1));
            var exceeded = new List<string>();
            foreach (var (name, value, limit) in Counters)
            {
                var current = Number(document.RootElement, value);
                var bound = Number(document.RootElement, limit);
                if (bound > 0 && (float)current / bound > CounterThreshold)
                {
                    exceeded.Add(name);
                }
            }

            return exceeded;
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static long Number(JsonElement root, string name) =>
        HostJson.TryGet(root, name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    private static void Reject(HttpContext context)
    {
        // No problem body, as the real host: the refusal is meant to cost nothing.
        if (context.Features.Get<IStatusCodePagesFeature>() is { } statusCodePages)
        {
            statusCodePages.Enabled = false;
        }

        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers[ScaleOutHeader] = "1";
    }

    /// <summary>
    /// The real host logs every refusal; under a flood that is thousands of lines a second, so here one line per second
    /// says how many were refused since the last.
    /// </summary>
    private void LogQueueFullAtMostEverySecond()
    {
        var refused = Interlocked.Increment(ref _rejectedSinceLog);
        var last = Interlocked.Read(ref _lastQueueFullLog);
        if ((last == 0 || Stopwatch.GetElapsedTime(last) >= TimeSpan.FromSeconds(1))
            && Interlocked.CompareExchange(ref _lastQueueFullLog, Stopwatch.GetTimestamp(), last) == last)
        {
            LogQueueFull(_logger, _options.MaxOutstandingRequests, refused);
            Interlocked.Add(ref _rejectedSinceLog, -refused);
        }
    }

    /// <summary>Looks at the counters at most once per <see cref="PerformanceCheckInterval"/>; between looks, the last verdict holds.</summary>
    private bool CountersExceeded()
    {
        var last = Interlocked.Read(ref _lastCheck);
        if (last != 0 && Stopwatch.GetElapsedTime(last) <= PerformanceCheckInterval)
        {
            return Volatile.Read(ref _rejectAll);
        }

        lock (_checkGate)
        {
            if (_lastCheck == 0 || Stopwatch.GetElapsedTime(_lastCheck) > PerformanceCheckInterval)
            {
                var exceeded = ExceededCounters(_counters());
                Volatile.Write(ref _rejectAll, exceeded.Count > 0);
                Interlocked.Exchange(ref _lastCheck, Stopwatch.GetTimestamp());
                if (exceeded.Count > 0)
                {
                    LogCountersExceeded(_logger, string.Join(", ", exceeded));
                }
            }

            return _rejectAll;
        }
    }

    [LoggerMessage(LogLevel.Information, "Http request queue limit of {MaxOutstandingRequests} has been exceeded ({Refused} requests refused with 429 since the last such line).")]
    private static partial void LogQueueFull(ILogger logger, int maxOutstandingRequests, long refused);

    [LoggerMessage(LogLevel.Warning, "Thresholds for the following counters have been exceeded: [{Counters}]")]
    private static partial void LogCountersExceeded(ILogger logger, string counters);
}
