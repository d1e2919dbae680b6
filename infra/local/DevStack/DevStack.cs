using Npgsql;
using Storefront.Migrations;

namespace Storefront.DevStack;

/// <summary>
/// PostgreSQL and Azurite, migrated and seeded, in one state folder: what the run command, the test fixtures, the soak
/// and the benchmarks run the app against. Disposing it stops exactly what it started.
/// </summary>
public sealed class DevStack : IAsyncDisposable
{
    /// <summary>The external services the app calls, by their settings name (Services__NAME__BaseUrl).</summary>
    public static readonly string[] ServiceNames = ["Inventory", "Reviews", "Fx", "Payments", "Shipping", "Notifications"];

    private DevStack(DevStackOptions options)
    {
        Options = options;
    }

    public DevStackOptions Options { get; }

    /// <summary>The local cluster; null when an external server is used.</summary>
    public PostgresServer? Postgres { get; private set; }

    /// <summary>The local emulator; null when external storage is used.</summary>
    public AzuriteServer? Azurite { get; private set; }

    public string PostgresConnectionString => Options.ExternalPostgres ?? Postgres!.ConnectionString;

    public string StorageConnectionString => Options.ExternalStorage ?? Azurite!.ConnectionString;

    public static async Task<DevStack> StartAsync(DevStackOptions options, Action<string>? log, CancellationToken cancellationToken)
    {
        log ??= _ => { };
        var stack = new DevStack(options);
        try
        {
            StateFolder.Ensure(options.LogDirectory);
            if (options.ExternalPostgres is null)
            {
                stack.Postgres = await PostgresServer.StartAsync(
                    new PostgresOptions
                    {
                        StateDirectory = options.StateDirectory,
                        Port = options.PostgresPort is 0 ? Ports.Free() : options.PostgresPort,
                        LogFile = Path.Combine(options.LogDirectory, "postgres.log"),
                        Throwaway = options.Throwaway,
                        PortHint = options.PortHint,
                    },
                    log,
                    cancellationToken);
            }
            else
            {
                log("using the PostgreSQL server given by STOREFRONT_POSTGRES; nothing to start");
            }

            if (options.ExternalStorage is null)
            {
                var blob = options.AzuritePort is 0 ? Ports.Free() : options.AzuritePort;
                stack.Azurite = await AzuriteServer.StartAsync(
                    new AzuriteOptions
                    {
                        StateDirectory = options.StateDirectory,
                        BlobPort = blob,
                        QueuePort = options.AzuritePort is 0 ? Ports.Free() : blob + 1,
                        TablePort = options.AzuritePort is 0 ? Ports.Free() : blob + 2,
                        LogFile = Path.Combine(options.LogDirectory, "azurite.log"),
                        PortHint = options.PortHint,
                    },
                    log,
                    cancellationToken);
            }
            else
            {
                log("using the storage given by STOREFRONT_AZURITE; nothing to start");
            }

            await MigrateAndSeedAsync(stack.PostgresConnectionString, options.SeedProducts, log, cancellationToken);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    /// <summary>The schema migrations, then the demo catalogue (both idempotent).</summary>
    public static async Task MigrateAndSeedAsync(string connectionString, int products, Action<string> log, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        log("applying migrations");
        var result = await Task.Run(() => SchemaMigrator.Migrate(dataSource), cancellationToken);
        if (!result.Successful)
        {
            throw new InvalidOperationException($"migration failed at {result.ErrorScript?.Name ?? "start-up"}: {result.Error?.Message}");
        }

        log($"seeding {products} demo products");
        await DemoDataSeeder.SeedProductsAsync(dataSource, products, cancellationToken);
    }

    /// <summary>The app settings that point the app at this stack and at a simulator; callers add their own.</summary>
    public Dictionary<string, string> AppSettings(Uri simulator)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ConnectionStrings__Postgres"] = PostgresConnectionString,
            ["AzureWebJobsStorage"] = StorageConnectionString,
        };
        foreach (var service in ServiceNames)
        {
            settings[$"Services__{service}__BaseUrl"] = simulator.ToString();
        }

        return settings;
    }

    /// <summary>Azurite first, then PostgreSQL: only what this stack started.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Azurite is not null)
        {
            await Azurite.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
