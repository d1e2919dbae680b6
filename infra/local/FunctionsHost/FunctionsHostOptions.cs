namespace Storefront.FunctionsHost;

/// <summary>What the local host needs to run one compiled function app.</summary>
public sealed record FunctionsHostOptions
{
    /// <summary>The app's build output folder (holds worker.config.json, host.json, local.settings.json).</summary>
    public required string AppDirectory { get; init; }

    /// <summary>Public HTTP port; 0 picks a free one (see <see cref="FunctionsHost.BaseAddress"/>).</summary>
    public int HttpPort { get; init; } = 7071;

    /// <summary>
    /// App settings added on top of local.settings.json Values and the process environment
    /// (these win: tests use them to point one host at its own queues and services).
    /// </summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Read local.settings.json from the app folder, as Core Tools does.</summary>
    public bool UseLocalSettingsFile { get; init; } = true;

    /// <summary>How long a worker may take from launch to all functions loaded.</summary>
    public TimeSpan WorkerStartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a stop lets running HTTP requests and on-demand (admin) invocations go on and cancelled queue and timer
    /// invocations take to answer, and the grace period sent with WorkerTerminate before the worker is killed.
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After host.json functionTimeout expires, how long the invocation may take to end once cancelled
    /// before the worker running it is restarted (the real host waits its timeout grace period too).
    /// </summary>
    public TimeSpan FunctionTimeoutGracePeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest request body forwarded to the worker (the real front end allows 100 MB).</summary>
    public long MaxRequestBodySize { get; init; } = 100L * 1024 * 1024;
}
