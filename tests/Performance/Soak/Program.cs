using System.Globalization;
using Storefront.Soak;

// The soak, or with --outages the scripted outage scenarios (see tests/Storefront.Tests/Reliability/README.md). Expects PostgreSQL (migrated and seeded) and
// Azurite, given by ConnectionStrings__Postgres and AzureWebJobsStorage; ./tests/Performance/Soak/run.sh provides both.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
SoakOptions options;
try
{
    options = SoakOptions.Parse(args);
}
catch (ArgumentException exception)
{
    await Console.Error.WriteLineAsync($"soak: {exception.Message}");
    await Console.Error.WriteLineAsync(SoakOptions.Usage);
    return 2;
}

return options.Outages ? await OutageRun.RunAsync(options) : await SoakRun.RunAsync(options);
