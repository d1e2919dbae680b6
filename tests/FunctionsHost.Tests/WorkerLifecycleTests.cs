using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Storefront.FunctionsHost.Tests;

public sealed class WorkerLifecycleTests
{
    [Fact]
    public async Task A_killed_worker_fails_its_invocations_in_flight_is_restarted_and_the_next_request_succeeds()
    {
        await using var fixture = new OwnedFixture();
        await fixture.Inner.InitializeAsync();
        var host = fixture.Inner.Host;
        var firstWorker = host.WorkerProcessId!.Value;

        var tag = Guid.NewGuid().ToString("N");
        var inFlight = fixture.Inner.Client.GetAsync($"api/hang?tag={tag}");
        Assert.True(await Eventually.TrueAsync(() => fixture.Inner.Probes($"hang-{tag}").Length == 1, TimeSpan.FromSeconds(90)), "the invocation never started");
        Process.GetProcessById(firstWorker).Kill();
        var lost = await inFlight;

        Assert.Equal(HttpStatusCode.InternalServerError, lost.StatusCode);
        var next = await fixture.Inner.Client.GetAsync("api/items/7");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(1, host.WorkerRestarts);
        Assert.NotEqual(firstWorker, host.WorkerProcessId);
    }

    /// <summary>
    /// host.json functionTimeout: the invocation that overran fails at once; since it ignores its cancellation,
    /// once the grace period is over the worker running it is restarted, taking every other invocation in
    /// flight with it (the real host's WebScriptHostExceptionHandler.OnTimeoutExceptionAsync). The bystander is
    /// sent when the overrun is reported and is well within its own limit when the restart ends it: it never
    /// sees a cancellation, it just dies with the worker.
    /// </summary>
    [Fact]
    public async Task An_invocation_past_the_function_timeout_fails_and_restarts_the_worker_with_everything_in_flight()
    {
        await using var fixture = new OwnedFixture("""{ "version": "2.0", "functionTimeout": "00:00:10" }""", functionTimeoutGracePeriod: TimeSpan.FromSeconds(8));
        await fixture.Inner.InitializeAsync();
        var host = fixture.Inner.Host;
        var firstWorker = host.WorkerProcessId!.Value;
        var tag = Guid.NewGuid().ToString("N");

        var hanging = await fixture.Inner.Client.GetAsync($"api/hang?tag={tag}");
        var bystander = fixture.Inner.Client.GetAsync($"api/slow/60000?tag={tag}");

        Assert.Equal(HttpStatusCode.InternalServerError, hanging.StatusCode);
        Assert.Equal(0, host.WorkerRestarts);
        Assert.Equal(HttpStatusCode.InternalServerError, (await bystander).StatusCode);
        Assert.Empty(fixture.Inner.Probes($"cancelled-{tag}"));
        Assert.True(await Eventually.TrueAsync(() => host.WorkerRestarts == 1, TimeSpan.FromSeconds(90)), "the worker was not restarted");
        Assert.NotEqual(firstWorker, host.WorkerProcessId);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Inner.Client.GetAsync("api/items/7")).StatusCode);
    }

    /// <summary>
    /// An invocation that honours its cancellation ends within the grace period: it fails, and the worker stays. The
    /// grace period is long, so that a busy machine does not end the worker of a function that did end; the test waits
    /// for the host to have settled the overrun, not for the grace period.
    /// </summary>
    [Fact]
    public async Task An_invocation_past_the_function_timeout_that_honours_cancellation_fails_without_a_worker_restart()
    {
        await using var fixture = new OwnedFixture("""{ "version": "2.0", "functionTimeout": "00:00:10" }""", functionTimeoutGracePeriod: TimeSpan.FromSeconds(60));
        await fixture.Inner.InitializeAsync();
        var host = fixture.Inner.Host;
        var worker = host.WorkerProcessId;
        var tag = Guid.NewGuid().ToString("N");
        // A worker that has served a request starts the next invocation well within the timeout, so the function is
        // running when the timeout cancels it.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Inner.Client.GetAsync("api/items/7")).StatusCode);

        var response = await fixture.Inner.Client.GetAsync($"api/slow/60000?tag={tag}");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.True(await Eventually.TrueAsync(() => fixture.Inner.Probes($"cancelled-{tag}").Length == 1, TimeSpan.FromSeconds(90)), "the function never saw its cancellation");
        Assert.True(await Eventually.TrueAsync(() => host.InvocationsPastTimeout == 0, TimeSpan.FromSeconds(90)), "the overrun invocation never ended");
        // A worker ended for the overrun would have failed this request or been replaced by a new one.
        Assert.Equal(HttpStatusCode.OK, (await fixture.Inner.Client.GetAsync("api/items/7")).StatusCode);
        Assert.Equal(0, host.WorkerRestarts);
        Assert.Equal(worker, host.WorkerProcessId);
    }

    [Theory]
    [InlineData("""{ "extensions": { "queues": { "batchSize": 64 } } }""", "batchSize")]
    [InlineData("""{ "extensions": { "queues": { "batchSize": 0 } } }""", "batchSize")]
    [InlineData("""{ "extensions": { "queues": { "maxPollingInterval": "00:00:00.050" } } }""", "MaxPollingInterval must not be less than 00:00:00.1000000")]
    [InlineData("""{ "extensions": { "queues": { "maxDequeueCount": 0 } } }""", "MaxDequeueCount must not be less than 1")]
    [InlineData("""{ "extensions": { "queues": { "newBatchThreshold": -1 } } }""", "newBatchThreshold")]
    [InlineData("""{ "functionTimeout": "00:00:00.500" }""", "FunctionTimeout must be greater than 00:00:01")]
    public async Task The_host_refuses_to_start_on_out_of_range_host_json_settings(string hostJson, string expected)
    {
        await using var fixture = new OwnedFixture(hostJson);

        var refusal = await Assert.ThrowsAsync<InvalidOperationException>(() => FunctionsHost.StartAsync(fixture.Inner.Options()));

        Assert.Contains(expected, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_the_host_ends_the_worker()
    {
        var fixture = new FixtureHost();
        await fixture.InitializeAsync();
        var worker = Process.GetProcessById(fixture.Host.WorkerProcessId!.Value);

        await fixture.DisposeAsync();

        // The host waits for its worker to exit before its disposal returns.
        Assert.True(worker.HasExited, "the worker outlived the host");
    }

    [Fact]
    public async Task No_worker_is_left_when_the_host_process_is_killed()
    {
        await using var fixture = new OwnedFixture();
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { FixtureHost.CliPath, "--app", FixtureHost.AppDirectory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in fixture.Inner.Settings)
        {
            start.Environment[key] = value;
        }

        using var hostProcess = Process.Start(start)!;
        hostProcess.BeginOutputReadLine();
        hostProcess.BeginErrorReadLine();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        JsonElement status = default;
        Assert.True(
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        status = await client.GetFromJsonAsync<JsonElement>($"admin/host/status?code={AppSettings.DefaultMasterKey}");
                        return true;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(90)),
            "the host CLI did not come up");
        var worker = Process.GetProcessById(status.GetProperty("processId").GetInt32());

        hostProcess.Kill();

        // The worker notices its parent is gone and exits; the guard only keeps a failure from hanging the run.
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromSeconds(100));
        await worker.WaitForExitAsync(hangGuard.Token);
        Assert.True(worker.HasExited, "the worker was orphaned");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A fixture a single test owns, so killing its worker disturbs no other test.</summary>
    private sealed class OwnedFixture(string? hostJson = null, TimeSpan? functionTimeoutGracePeriod = null) : IAsyncDisposable
    {
        public FixtureHost Inner { get; } = new() { HostJson = hostJson, FunctionTimeoutGracePeriod = functionTimeoutGracePeriod };

        public async ValueTask DisposeAsync() => await Inner.DisposeAsync();
    }
}
