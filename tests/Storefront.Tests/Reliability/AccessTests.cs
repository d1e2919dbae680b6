using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost;
using Storefront.Tests.Orders;

namespace Storefront.Tests.Reliability;

/// <summary>
/// Who may call what: order endpoints need the app's function key (header or <c>code</c>), catalog reads are
/// anonymous. As in Azure, the host answers a missing or wrong key with a bodyless 401 and forwards a keyed
/// request to the app as it came, key included; the app keeps the key out of its logs and telemetry.
/// The access model (one key per app, no per-customer authorization) is described in README.md.
/// </summary>
[Collection(StorefrontCollection.Name)]
public sealed class AccessTests(StorefrontStack stack) : IAsyncLifetime
{
    public Task InitializeAsync() => stack.ResetSimulatorAsync();

    public Task DisposeAsync() => stack.ResetSimulatorAsync();

    public static TheoryData<string, string?, string?> RefusedCredentials => new()
    {
        { "no key", null, null },
        { "wrong key in the header", "wrong-key", null },
        { "wrong key in code", null, "wrong-key" },
        { "empty key in the header", string.Empty, null },
        { "the key in another case", AppSettings.DefaultFunctionKey.ToUpperInvariant(), null },
        { "the key with a suffix", AppSettings.DefaultFunctionKey + "x", null },
        { "the key's prefix in code", null, AppSettings.DefaultFunctionKey[..^1] },
    };

    [Theory]
    [MemberData(nameof(RefusedCredentials))]
    public async Task Order_endpoints_refuse_a_missing_or_wrong_key_with_a_bodyless_401_and_write_nothing(string kind, string? header, string? code)
    {
        var key = Guid.NewGuid().ToString("N");
        var query = code is null ? string.Empty : $"?code={Uri.EscapeDataString(code)}";

        using var post = new HttpRequestMessage(HttpMethod.Post, $"api/orders{query}") { Content = JsonContent.Create(OrderApi.Body()) };
        post.Headers.Add("Idempotency-Key", key);
        using var get = new HttpRequestMessage(HttpMethod.Get, $"api/orders/{Guid.CreateVersion7()}{query}");
        if (header is not null)
        {
            post.Headers.TryAddWithoutValidation("x-functions-key", header);
            get.Headers.TryAddWithoutValidation("x-functions-key", header);
        }

        using var placed = await stack.Client.SendAsync(post);
        using var read = await stack.Client.SendAsync(get);

        Assert.True(placed.StatusCode == HttpStatusCode.Unauthorized, $"{kind}: POST answered {(int)placed.StatusCode}");
        Assert.True(read.StatusCode == HttpStatusCode.Unauthorized, $"{kind}: GET answered {(int)read.StatusCode}");
        Assert.Empty(await placed.Content.ReadAsByteArrayAsync());
        Assert.Empty(await read.Content.ReadAsByteArrayAsync());
        await using var command = stack.Database.CreateCommand("SELECT count(*) FROM orders WHERE idempotency_key = $1");
        command.Parameters.AddWithValue(key);
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_function_key_opens_order_endpoints_by_header_and_by_code()
    {
        var key = stack.Host.Settings.FunctionKey;
        using var byHeader = await stack.PlaceAsync(OrderApi.Body());
        var id = await OrderApi.AcceptedIdAsync(byHeader);

        using var byCode = await stack.Client.GetAsync($"api/orders/{id}?code={Uri.EscapeDataString(key)}");

        Assert.Equal(HttpStatusCode.OK, byCode.StatusCode);
    }

    [Theory]
    [InlineData("GET", "api/products/SKU-00001")]
    [InlineData("GET", "api/products/SKU-00001?currency=EUR")]
    [InlineData("GET", "api/products?limit=5")]
    [InlineData("POST", "api/products/lookup")]
    [InlineData("GET", "api/openapi.yaml")]
    [InlineData("GET", "api/health")]
    public async Task Catalog_reads_are_anonymous(string method, string url)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { skus = new[] { "SKU-00001", "SKU-00002" } });
        }

        using var response = await stack.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// Through a host of its own whose log this test reads in full, at every level, with the worker's console
    /// telemetry exporter on (traces, metrics and logs printed to the worker's stdout, which the host captures):
    /// requests carrying a key that occurs nowhere else, in <c>code</c> and in the header, reach the app (its
    /// problem+json 404 answers them; the host's own 404 has no body), and no line of the host's log, the
    /// worker's forwarded logs or the telemetry holds the key, nor the query string it travelled in.
    /// </summary>
    [Fact]
    public async Task The_app_receives_the_function_key_and_keeps_it_out_of_every_log_line_and_telemetry()
    {
        var probe = await ProbeAsync();

        Assert.Contains(probe.Lines, l => l.Contains("Activity.TraceId", StringComparison.Ordinal));
        var leaking = probe.Lines.Where(l => l.Contains(probe.Key, StringComparison.Ordinal)).ToArray();
        Assert.True(leaking.Length == 0, $"the key appears in {leaking.Length} log lines, e.g. {leaking.FirstOrDefault()}");
        foreach (var marker in probe.Markers)
        {
            var query = probe.Lines.Where(l => l.Contains(marker, StringComparison.Ordinal)).ToArray();
            Assert.True(query.Length == 0, $"the query string that carried the key appears in {query.Length} lines, e.g. {query.FirstOrDefault()}");
        }
    }

    /// <summary>
    /// Starts a second host for the same app with a unique function key, its own log file at every level and the
    /// worker's console telemetry exporter, sends keyed requests (code parameter and header) that reach the app,
    /// stops the host (flushing the log) and returns the log's lines. It shares the database and queues with the
    /// shared host for its few seconds.
    /// </summary>
    private async Task<Probe> ProbeAsync()
    {
        var key = $"probe-key-{Guid.NewGuid():N}";
        var logFile = Path.Combine(Path.GetTempPath(), $"storefront-access-{Guid.NewGuid():N}.log");
        var markers = new[] { $"probe={Guid.NewGuid():N}", $"probe={Guid.NewGuid():N}" };
        var settings = stack.StackSettings();
        settings[AppSettings.FunctionKeyName] = key;
        settings[AppSettings.MasterKeyName] = $"probe-master-{Guid.NewGuid():N}";
        // Once a year: this short-lived host leaves the outbox sweep to the shared one.
        settings["Recovery__SweepSchedule"] = "0 0 0 1 1 *";
        // The app prints its traces, metrics and logs to stdout (TelemetryExtensions.ExporterSetting).
        settings["OTEL_EXPORTER"] = "console";

        try
        {
            using (var logs = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new FileLoggerProvider(logFile, LogLevel.Trace))))
            {
                var host = await FunctionsHost.FunctionsHost.StartAsync(
                    new FunctionsHostOptions
                    {
                        AppDirectory = StorefrontStack.AppDirectory,
                        HttpPort = 0,
                        UseLocalSettingsFile = false,
                        Settings = settings,
                        ShutdownGracePeriod = TimeSpan.FromSeconds(3),
                    },
                    logs);
                await using (host)
                {
                    using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
                    var unknown = Guid.CreateVersion7();

                    // The key in the code parameter, between other parameters, and in the header; both requests reach the app.
                    using var byCode = await client.GetAsync($"api/orders/{unknown}?{markers[0]}&code={key}&x=1");
                    await AssertAnsweredByTheAppAsync(byCode);

                    using var byHeader = new HttpRequestMessage(HttpMethod.Get, $"api/orders/{unknown}?{markers[1]}");
                    byHeader.Headers.Add("x-functions-key", key);
                    using var headerAnswer = await client.SendAsync(byHeader);
                    await AssertAnsweredByTheAppAsync(headerAnswer);
                }
            }

            // The provider flushed and closed the file when the factory was disposed.
            var lines = await File.ReadAllLinesAsync(logFile, Encoding.UTF8);
            return new Probe(key, markers, lines);
        }
        finally
        {
            File.Delete(logFile);
        }
    }

    /// <summary>The app's own 404 for an unknown order is a problem; the host's 404 (no such route) has no body.</summary>
    private static async Task AssertAnsweredByTheAppAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
    }

    private sealed record Probe(string Key, string[] Markers, string[] Lines);
}
