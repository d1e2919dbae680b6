using Storefront.DevStack;

namespace Storefront.AppHost;

/// <summary>The run command's settings: its options and the STOREFRONT_* environment variables (see infra/README.md).</summary>
public sealed record RunSettings(
    int AppPort,
    bool LocalHost,
    bool NoApp,
    int SimulatorPort,
    int DashboardPort,
    int PostgresPort,
    int AzuritePort,
    string? ExternalPostgres,
    string? ExternalStorage,
    int SeedProducts,
    string StateDirectory)
{
    public static RunSettings FromEnvironment(int appPort, bool localHost, bool noApp) => new(
        appPort,
        localHost,
        noApp,
        Port("STOREFRONT_SIMULATOR_PORT") ?? 7081,
        Port("STOREFRONT_DASHBOARD_PORT") ?? 18888,
        Port("STOREFRONT_PG_PORT") ?? 15432,
        Port("STOREFRONT_AZURITE_PORT") ?? 10000,
        Value("STOREFRONT_POSTGRES"),
        Value("STOREFRONT_AZURITE"),
        DevStackOptions.SeedProductsFrom(Value("STOREFRONT_SEED_PRODUCTS")),
        Path.Combine(Value("STOREFRONT_STATE_DIR") ?? Path.Combine(RepoPaths.Root, ".local"), "dev"));

    private static int? Port(string variable) => Ports.Parse(Value(variable), variable);

    private static string? Value(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
}
