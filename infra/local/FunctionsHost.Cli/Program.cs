using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost;

// Runs a compiled .NET isolated function app locally, as `func start` would:
//   FunctionsHost.Cli --app <build output folder> [--port 7071] [--verbose]
// Exit codes: 0 stopped by Ctrl-C/SIGTERM, 1 the app did not start, 2 bad usage.
var appOption = new Option<string>("--app") { Description = "The function app's build output (with worker.config.json).", Required = true };
appOption.Validators.Add(result =>
{
    if (result.GetValueOrDefault<string>() is not { } folder || !File.Exists(Path.Combine(folder, "worker.config.json")))
    {
        result.AddError($"'{result.GetValueOrDefault<string>()}' is not a built function app (no worker.config.json); build it first.");
    }
});
var portOption = new Option<int>("--port") { Description = "HTTP port (0: a free one).", DefaultValueFactory = _ => 7071 };
portOption.Validators.Add(result =>
{
    if (result.GetValueOrDefault<int>() is < 0 or > 65535)
    {
        result.AddError("--port must be from 0 to 65535.");
    }
});
var verboseOption = new Option<bool>("--verbose") { Description = "Debug logs, the framework's per-request ones included." };
var parsed = new RootCommand("Runs a compiled .NET isolated function app locally, as `func start` would.") { appOption, portOption, verboseOption }.Parse(args);
if (parsed.Errors.Count > 0 || parsed.Action is not null)
{
    // --help (an action) prints and ends here, as do errors.
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync(error.Message);
    }

    return parsed.Errors.Count > 0 ? 2 : await parsed.InvokeAsync();
}

var appDirectory = parsed.GetValue(appOption)!;
var port = parsed.GetValue(portOption);
var verbose = parsed.GetValue(verboseOption);

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
