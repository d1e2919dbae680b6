using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost;

// Runs a compiled .NET isolated function app locally, as `func start` would:
//   FunctionsHost.Cli --app <build output folder> [--port 7071] [--verbose]
string? appDirectory = null;
var port = 7071;
var verbose = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--app" when i + 1 < args.Length:
            appDirectory = args[++i];
            break;
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 0 and <= 65535:
            port = parsed;
            i++;
            break;
        case "--verbose":
            verbose = true;
            break;
        default:
            await Console.Error.WriteLineAsync("usage: FunctionsHost.Cli --app <function app build output> [--port 7071] [--verbose]");
            return 2;
    }
}

if (appDirectory is null || !File.Exists(Path.Combine(appDirectory, "worker.config.json")))
{
    await Console.Error.WriteLineAsync($"'{appDirectory}' is not a built function app (no worker.config.json); build it first.");
    return 2;
}

using var loggerFactory = LoggerFactory.Create(logging => logging
    .AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "HH:mm:ss.fff ";
    })
    .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
    // Per-request framework chatter from the worker and Kestrel hides the app's own logs.
    .AddFilter("Microsoft.AspNetCore", verbose ? LogLevel.Information : LogLevel.Warning)
    .AddFilter("System.Net.Http", LogLevel.Warning)
    .AddFilter("Grpc", LogLevel.Warning)
    .AddFilter("Azure.Core", LogLevel.Warning)
    .AddFilter("Npgsql", LogLevel.Warning)
    .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning));

using var stop = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

FunctionsHost host;
try
{
    host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = Path.GetFullPath(appDirectory), HttpPort = port }, loggerFactory, stop.Token);
}
catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or IOException or OperationCanceledException
    or Storefront.FunctionsHost.Worker.WorkerUnavailableException)
{
    await Console.Error.WriteLineAsync($"The function app did not start: {exception.Message} (run with --verbose for the worker's output)");
    return 1;
}

await using var running = host;

Console.WriteLine();
Console.WriteLine($"Functions ({host.Functions.Count}):");
foreach (var function in host.Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
{
    var detail = function.Kind switch
    {
        TriggerKind.Http => $"[{string.Join(",", function.HttpMethods.DefaultIfEmpty("ANY"))}] {host.BaseAddress}{host.RouteOf(function)} ({function.AuthLevel})",
        TriggerKind.Queue => $"queueTrigger: {function.Property("queueName")}",
        TriggerKind.Timer => $"timerTrigger: {function.Property("schedule")}",
        _ => function.Kind.ToString(),
    };
    Console.WriteLine($"  {function.Name}: {detail}");
}

Console.WriteLine();
Console.WriteLine("Press Ctrl-C to stop.");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("Stopping...");
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
