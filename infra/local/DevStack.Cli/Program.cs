using System.CommandLine;
using System.Runtime.InteropServices;
using Storefront.DevStack;
using Storefront.DevStack.Cli;

// Exit codes: the app host's when it ended by itself, 1 failure, 2 bad usage, 130 stopped by a signal.
var port = new Option<int>("--port")
{
    Description = "The app's port (default 7071, or STOREFRONT_PORT).",
    DefaultValueFactory = _ => Ports.Parse(Environment.GetEnvironmentVariable("STOREFRONT_PORT"), "STOREFRONT_PORT") ?? 7071,
};
port.Validators.Add(result =>
{
    if (result.GetValueOrDefault<int>() is < 1 or > 65535)
    {
        result.AddError("--port must be from 1 to 65535.");
    }
});
var localHost = new Option<bool>("--local-host") { Description = "Run the app with infra/local/FunctionsHost.Cli even when Azure Functions Core Tools (func) are on PATH." };
var noApp = new Option<bool>("--no-app") { Description = "Everything but the app (to run `func start` or a debugger yourself)." };

var run = new Command("run", "PostgreSQL, Azurite, migrations and demo data, the service simulator and the app; Ctrl-C stops everything it started.") { port, localHost, noApp };
run.SetAction(async (parse, _) =>
{
    RunSettings settings;
    try
    {
        settings = RunSettings.FromEnvironment(parse.GetValue(port), parse.GetValue(localHost), parse.GetValue(noApp));
    }
    catch (ArgumentException exception)
    {
        await Console.Error.WriteLineAsync($"[run] error: {exception.Message}");
        return 2;
    }

    // Our own handlers rather than the parser's: stopping in order (app, simulator, Azurite, PostgreSQL) takes longer
    // than its grace period, after which it would end the process.
    using var stop = new CancellationTokenSource();
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Stop);
    return await RunCommand.RunAsync(settings, stop.Token);

    void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        if (!stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("[run] stopping everything this run started...");
            stop.Cancel();
        }
    }
});

var root = new RootCommand("The storefront's local dev stack (see infra/local/README.md).") { run };
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"error: {error.Message}");
    }

    await Console.Error.WriteLineAsync("See --help.");
    return 2;
}

return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
