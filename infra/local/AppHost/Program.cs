using System.CommandLine;
using Storefront.AppHost;
using Storefront.DevStack;

// The run command: ./infra/local/run.sh [--port N] [--local-host] [--no-app] (see infra/README.md).
// Exit codes: 0 stopped by Ctrl-C/SIGTERM, 1 failure (a resource failed or stopped by itself), 2 bad usage.
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

var root = new RootCommand(
    "The storefront on this machine: PostgreSQL, Azurite, migrations and demo data, the service simulator and the app, " +
    "orchestrated by an Aspire AppHost (executables only, no container engine) with its dashboard; Ctrl-C stops everything.")
{
    port, localHost, noApp,
};
root.SetAction(async (parse, _) =>
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

    // The AppHost's host handles Ctrl-C and SIGTERM itself (and stops every resource through DCP).
    return await RunCommand.RunAsync(settings);
});

// The one-shot migrate-and-seed resource runs this same program: the dev stack library's migrations and seed.
var migrateAndSeed = new Command(RunCommand.MigrateAndSeedCommand, "Internal: the run command's migrate-and-seed step (ConnectionStrings__Postgres, STOREFRONT_SEED_PRODUCTS).")
{
    Hidden = true,
};
migrateAndSeed.SetAction((_, cancellationToken) => RunCommand.MigrateAndSeedAsync(cancellationToken));
root.Add(migrateAndSeed);

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
