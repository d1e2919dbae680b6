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

        var inFlight = fixture.Inner.Client.GetAsync("api/slow/10000");
        await Task.Delay(500);
        Process.GetProcessById(firstWorker).Kill();
        var lost = await inFlight;

        Assert.Equal(HttpStatusCode.InternalServerError, lost.StatusCode);
        var next = await fixture.Inner.Client.GetAsync("api/items/7");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(1, host.WorkerRestarts);
        Assert.NotEqual(firstWorker, host.WorkerProcessId);
    }

    [Fact]
    public async Task Stopping_the_host_ends_the_worker()
    {
        var fixture = new FixtureHost();
        await fixture.InitializeAsync();
        var worker = Process.GetProcessById(fixture.Host.WorkerProcessId!.Value);

        await fixture.DisposeAsync();

        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(10)), "the worker outlived the host");
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
            await FixtureHost.EventuallyAsync(
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
                TimeSpan.FromSeconds(30)),
            "the host CLI did not come up");
        var worker = Process.GetProcessById(status.GetProperty("processId").GetInt32());

        hostProcess.Kill();

        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(10)), "the worker was orphaned");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A fixture a single test owns, so killing its worker disturbs no other test.</summary>
    private sealed class OwnedFixture : IAsyncDisposable
    {
        public FixtureHost Inner { get; } = new();

        public async ValueTask DisposeAsync()
        {
            if (Inner.Client is not null)
            {
                await Inner.DisposeAsync();
            }
        }
    }
}
