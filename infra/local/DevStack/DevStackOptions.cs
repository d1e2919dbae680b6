namespace Storefront.DevStack;

/// <summary>What a <see cref="DevStack"/> starts, where, and on which ports (0: a free one).</summary>
public sealed record DevStackOptions
{
    public const int DefaultSeedProducts = 10_000;

    /// <summary>Holds the PostgreSQL cluster, Azurite's data and the pid files.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>postgres.log and azurite.log (and whatever else the caller writes there).</summary>
    public required string LogDirectory { get; init; }

    public int PostgresPort { get; init; }

    /// <summary>The blob port; queue and table take the next two. 0: three free ports.</summary>
    public int AzuritePort { get; init; }

    /// <summary>A PostgreSQL run elsewhere (e.g. docker-compose.yml): nothing is started or stopped for it.</summary>
    public string? ExternalPostgres { get; init; }

    /// <summary>A storage emulator or account run elsewhere: nothing is started or stopped for it.</summary>
    public string? ExternalStorage { get; init; }

    /// <summary>Throwaway data (tests): PostgreSQL without fsync.</summary>
    public bool Throwaway { get; init; }

    public int SeedProducts { get; init; } = DefaultSeedProducts;

    /// <summary>The setting that changes the ports, named when one is taken.</summary>
    public string PortHint { get; init; } = "choose other ports";

    /// <summary>
    /// A test fixture's private stack: state in .local/test/NAME, logs in .local/test/logs/NAME, free ports, throwaway
    /// data, and the seed size STOREFRONT_SEED_PRODUCTS asks for.
    /// </summary>
    public static DevStackOptions ForTests(string name) => new()
    {
        StateDirectory = Path.Combine(RepoPaths.TestState, name),
        LogDirectory = Path.Combine(RepoPaths.TestState, "logs", name),
        Throwaway = true,
        SeedProducts = SeedProductsFrom(Environment.GetEnvironmentVariable("STOREFRONT_SEED_PRODUCTS")),
    };

    /// <summary>STOREFRONT_SEED_PRODUCTS: 1..99999 products, the migrations tool's default when unset.</summary>
    public static int SeedProductsFrom(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return DefaultSeedProducts;
        }

        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 99_999
            ? count
            : throw new ArgumentException($"STOREFRONT_SEED_PRODUCTS: '{value}' is not a number of products (1-99999)");
    }
}
