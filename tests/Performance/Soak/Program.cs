using System.Globalization;
using Storefront.Soak;

// The soak, or with --outages the scripted outage scenarios (see tests/Storefront.Tests/Reliability/README.md). Starts its
// own PostgreSQL and Azurite through the dev stack (infra/local/DevStack); ./tests/Performance/Soak/run.sh runs it.
// Exit codes: 0 passed, 1 a check failed, 2 bad usage.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var parsed = SoakOptions.CommandLine((options, _) => options.Outages ? OutageRun.RunAsync(options) : SoakRun.RunAsync(options)).Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"soak: {error.Message}");
    }

    await Console.Error.WriteLineAsync("See --help.");
    return 2;
}

return await parsed.InvokeAsync();
