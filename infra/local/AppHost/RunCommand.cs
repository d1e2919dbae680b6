using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Storefront.DevStack;

namespace Storefront.AppHost;

/// <summary>
/// The RUN command as an Aspire AppHost: the dev stack library prepares PostgreSQL (OS user, initdb) and Azurite and
/// describes their processes; DCP runs them and the rest as executable resources, with health checks and ordering,
/// and the dashboard shows their states, logs and the app's traces and metrics.
/// </summary>
public static class RunCommand
{
    public const string MigrateAndSeedCommand = "migrate-and-seed";

    // What local.settings.sample.json points at; anything else reaches the app as environment variables, which win
    // over local.settings.json Values in both hosts.
    private const string SamplePostgres = "Host=127.0.0.1;Port=15432;Database=storefront;Username=storefront;Password=storefront";
    private const int SampleAzuritePort = 10000;
    private const int SampleSimulatorPort = 7081;

    private const string SampleOrder =
        """{"customerId":"c-123","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00042","quantity":2}],"shipTo":{"country":"NL","postcode":"1011AB"}}""";

    private const string PortHint = "set STOREFRONT_PG_PORT / STOREFRONT_AZURITE_PORT (or STOREFRONT_POSTGRES / STOREFRONT_AZURITE for servers you run yourself)";

    public static async Task<int> RunAsync(RunSettings settings)
    {
        var clock = Stopwatch.StartNew();
        var logs = Path.Combine(settings.StateDirectory, "logs");
        PostgresServer? postgres = null;
        AzuriteServer? azurite = null;
        try
        {
            // DCP does not notice a port someone else holds: a health check would pass against that program.
            await EnsurePortsFreeAsync(settings);
            if (settings.ExternalPostgres is null)
            {
                postgres = await PostgresServer.PrepareAsync(
                    new PostgresOptions
                    {
                        StateDirectory = settings.StateDirectory,
                        Port = settings.PostgresPort,
                        LogFile = Path.Combine(logs, "postgres.log"),
                        PortHint = PortHint,
                    },
                    Log,
                    CancellationToken.None);
            }
            else
            {
                Log("using the PostgreSQL server given by STOREFRONT_POSTGRES; nothing to start");
            }

            if (settings.ExternalStorage is null)
            {
                azurite = await AzuriteServer.PrepareAsync(
                    new AzuriteOptions
                    {
                        StateDirectory = settings.StateDirectory,
                        BlobPort = settings.AzuritePort,
                        QueuePort = settings.AzuritePort + 1,
                        TablePort = settings.AzuritePort + 2,
                        LogFile = Path.Combine(logs, "azurite.log"),
                        PortHint = PortHint,
                    },
                    Log,
                    CancellationToken.None);
            }
            else
            {
                Log("using the storage given by STOREFRONT_AZURITE; nothing to start");
            }

            Directory.CreateDirectory(logs);
            await PrepareSettingsAsync(settings);
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            Log($"error: {exception.Message}");
            return 1;
        }

        var postgresConnection = settings.ExternalPostgres ?? postgres!.ConnectionString;
        var storageConnection = settings.ExternalStorage ?? azurite!.ConnectionString;
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            // Configuration of the AppHost and its dashboard (not environment variables: the resources would inherit them).
            Args =
            [
                $"--ASPNETCORE_URLS=http://127.0.0.1:{Text(settings.DashboardPort)}",
                $"--ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL=http://127.0.0.1:{Text(settings.DashboardPort + 1)}",
                // Plain http on 127.0.0.1, no login: a local development dashboard only this machine can reach.
                "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
                "--ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true",
                "--ASPIRE_DASHBOARD_TELEMETRY_OPTOUT=true",
                // Development: resources export telemetry every second or so (in Production, metrics once a minute).
                "--environment=Development",
                "--Logging:LogLevel:Aspire.Hosting.Dcp=Warning",
            ],
        });

        IResourceBuilder<ExecutableResource>? postgresResource = null;
        IResourceBuilder<ExecutableResource>? azuriteResource = null;
        if (postgres is not null)
        {
            var provisioned = false;
            builder.Services.AddHealthChecks().AddAsyncCheck("postgres-ready", async cancellationToken =>
            {
                // Healthy once it accepts connections and has the storefront role and database (made once, idempotent).
                if (!await postgres.AcceptsConnectionsAsync(cancellationToken))
                {
                    return HealthCheckResult.Unhealthy("not accepting connections yet");
                }

                if (!provisioned)
                {
                    await postgres.ProvisionAsync(cancellationToken);
                    provisioned = true;
                }

                return HealthCheckResult.Healthy();
            });
            postgresResource = AddExecutable(builder, postgres.Spec)
                .WithEndpoint(port: settings.PostgresPort, isProxied: false, scheme: "tcp", name: "tcp")
                .WithHealthCheck("postgres-ready");
        }

        if (azurite is not null)
        {
            builder.Services.AddHealthChecks().AddAsyncCheck("azurite-ready", async cancellationToken =>
                await AzuriteServer.AnswersAsync(azurite.Options.QueuePort, cancellationToken)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("the queue service does not answer yet"));
            azuriteResource = AddExecutable(builder, azurite.Spec)
                .WithHttpEndpoint(port: azurite.Options.BlobPort, isProxied: false, name: "blob")
                .WithHttpEndpoint(port: azurite.Options.QueuePort, isProxied: false, name: "queue")
                .WithHttpEndpoint(port: azurite.Options.TablePort, isProxied: false, name: "table")
                .WithHealthCheck("azurite-ready");
        }

        // Secret parameters: the dashboard shows them masked (an external server's connection string may hold a real password).
        var postgresParameter = builder.AddParameter("postgres-connection", postgresConnection, secret: true);
        var storageParameter = builder.AddParameter("storage-connection", storageConnection, secret: true);

        var migrate = builder.AddExecutable(MigrateAndSeedCommand, "dotnet", RepoPaths.Root, typeof(RunCommand).Assembly.Location, MigrateAndSeedCommand)
            .WithEnvironment("ConnectionStrings__Postgres", postgresParameter)
            .WithEnvironment("STOREFRONT_SEED_PRODUCTS", Text(settings.SeedProducts));
        if (postgresResource is not null)
        {
            migrate.WaitFor(postgresResource);
        }

        var (simulatorFile, simulatorArguments) = SimulatorCommand.For(RepoPaths.SimulatorDll, "--urls", $"http://127.0.0.1:{Text(settings.SimulatorPort)}");
        var simulator = builder.AddExecutable("simulator", simulatorFile, RepoPaths.Root, simulatorArguments)
            .WithHttpEndpoint(port: settings.SimulatorPort, isProxied: false, name: "http")
            .WithHttpHealthCheck("/health");

        string? hostKind = null;
        if (!settings.NoApp)
        {
            var func = !settings.LocalHost ? FindOnPath("func") : null;
            hostKind = func is null ? "local Functions host (infra/local/FunctionsHost.Cli)" : "Azure Functions Core Tools (func start)";
            var app = (func is null
                    ? builder.AddExecutable("app", "dotnet", RepoPaths.Root, RepoPaths.HostCliDll, "--app", RepoPaths.ApiOutput, "--port", Text(settings.AppPort))
                    : builder.AddExecutable("app", func, RepoPaths.ApiProject, "start", "--port", Text(settings.AppPort)))
                .WithHttpEndpoint(port: settings.AppPort, isProxied: false, name: "http")
                .WithHttpHealthCheck("/api/health")
                // The worker exports its traces, metrics and logs to the dashboard (OTEL_EXPORTER_OTLP_* settings).
                .WithOtlpExporter(OtlpProtocol.HttpProtobuf)
                .WaitForCompletion(migrate)
                .WaitFor(simulator);
            if (azuriteResource is not null)
            {
                app.WaitFor(azuriteResource);
            }

            // The settings that differ from what local.settings.sample.json points at.
            if (postgresConnection != SamplePostgres)
            {
                app.WithEnvironment("ConnectionStrings__Postgres", postgresParameter);
            }

            if (settings.ExternalStorage is not null || settings.AzuritePort != SampleAzuritePort)
            {
                app.WithEnvironment("AzureWebJobsStorage", storageParameter);
            }

            if (settings.SimulatorPort != SampleSimulatorPort)
            {
                foreach (var service in DevStack.DevStack.ServiceNames)
                {
                    app.WithEnvironment($"Services__{service}__BaseUrl", $"http://127.0.0.1:{Text(settings.SimulatorPort)}");
                }
            }
        }

        await using var distributed = builder.Build();
        var lifetime = distributed.Services.GetRequiredService<IHostApplicationLifetime>();
        // DCP stops executables with SIGTERM, PostgreSQL's smart shutdown, which waits for the app's pooled sessions:
        // ask for a fast shutdown first (the application stops before DCP deletes its resources).
        lifetime.ApplicationStopping.Register(() =>
        {
            if (postgres?.RequestFastShutdown() == true)
            {
                Log("PostgreSQL: fast shutdown requested");
            }
        });
        var watcher = new ResourceWatcher(
            distributed.Services,
            logs,
            new HashSet<string>([MigrateAndSeedCommand], StringComparer.Ordinal),
            new HashSet<string>(["postgres", "azurite"], StringComparer.Ordinal));
        var watching = watcher.RunAsync(lifetime.ApplicationStopping);
        var banner = PrintBannerWhenReadyAsync(distributed.Services, settings, hostKind, postgresConnection, logs, clock, lifetime.ApplicationStopping);
        await distributed.RunAsync();
        await Task.WhenAll(watching, banner);
        Log("stopped");
        return watcher.Failed ? 1 : 0;
    }

    /// <summary>The one-shot step (this program, run by DCP): the schema migrations, then the demo catalogue.</summary>
    public static async Task<int> MigrateAndSeedAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
                ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set");
            var products = DevStackOptions.SeedProductsFrom(Environment.GetEnvironmentVariable("STOREFRONT_SEED_PRODUCTS"));
            await DevStack.DevStack.MigrateAndSeedAsync(connection, products, Console.WriteLine, cancellationToken);
            Console.WriteLine("migrations applied, demo data seeded");
            return 0;
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or NpgsqlException or IOException)
        {
            await Console.Error.WriteLineAsync($"error: {exception.Message}");
            return 1;
        }
    }

    internal static void Log(string message) => Console.Error.WriteLine($"[run] {message}");

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>An executable resource from a dev stack process description (as root with setpriv to its OS user).</summary>
    private static IResourceBuilder<ExecutableResource> AddExecutable(IDistributedApplicationBuilder builder, ProcessSpec spec)
    {
        var (fileName, arguments) = spec.Command(Environment.IsPrivilegedProcess);
        var resource = builder.AddExecutable(spec.Name, fileName, spec.WorkingDirectory, [.. arguments]);
        foreach (var (name, value) in spec.Environment)
        {
            resource.WithEnvironment(name, value);
        }

        return resource;
    }

    private static async Task EnsurePortsFreeAsync(RunSettings settings)
    {
        var ports = new List<(int Port, string What, string Hint)>
        {
            (settings.SimulatorPort, "service simulator", "set STOREFRONT_SIMULATOR_PORT"),
            (settings.DashboardPort, "dashboard", "set STOREFRONT_DASHBOARD_PORT"),
            (settings.DashboardPort + 1, "dashboard's OTLP endpoint", "set STOREFRONT_DASHBOARD_PORT"),
        };
        if (settings.ExternalPostgres is null)
        {
            ports.Add((settings.PostgresPort, "PostgreSQL", PortHint));
        }

        if (settings.ExternalStorage is null)
        {
            ports.AddRange(Enumerable.Range(settings.AzuritePort, 3).Select(p => (p, "Azurite", PortHint)));
        }

        if (!settings.NoApp)
        {
            ports.Add((settings.AppPort, "app", "pass --port N or set STOREFRONT_PORT"));
        }

        foreach (var (port, what, hint) in ports)
        {
            await Ports.EnsureFreeAsync(port, what, hint, CancellationToken.None);
        }
    }

    /// <summary>local.settings.json from the sample (or completed from it), copied beside the built app, where the local host reads it.</summary>
    private static async Task PrepareSettingsAsync(RunSettings settings)
    {
        var local = Path.Combine(RepoPaths.ApiProject, "local.settings.json");
        var added = await LocalSettings.EnsureAsync(Path.Combine(RepoPaths.Root, "local.settings.sample.json"), local, CancellationToken.None);
        if (added is null)
        {
            Log("created functions/Storefront.Api/local.settings.json from local.settings.sample.json");
        }
        else if (added.Count > 0)
        {
            Log($"added to local.settings.json from the sample: {string.Join(", ", added)}");
        }

        if (!settings.NoApp)
        {
            // The build copies it only when it existed at build time: the first run creates it after `dotnet run` built.
            File.Copy(local, Path.Combine(RepoPaths.ApiOutput, "local.settings.json"), overwrite: true);
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static async Task PrintBannerWhenReadyAsync(
        IServiceProvider services, RunSettings settings, string? hostKind, string postgresConnection, string logs, Stopwatch clock, CancellationToken stopping)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        try
        {
            if (hostKind is null)
            {
                await notifications.WaitForResourceAsync(MigrateAndSeedCommand, KnownResourceStates.Finished, stopping);
                await notifications.WaitForResourceHealthyAsync("simulator", stopping);
            }
            else
            {
                await notifications.WaitForResourceHealthyAsync("app", stopping);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // The connection string without its password: this is printed, and an external server's may be a real one.
        var postgres = new NpgsqlConnectionStringBuilder(postgresConnection) { Password = null };
        var storage = settings.ExternalStorage is null
            ? $"blob/queue/table on 127.0.0.1:{Text(settings.AzuritePort)}/{Text(settings.AzuritePort + 1)}/{Text(settings.AzuritePort + 2)}"
            : "external (STOREFRONT_AZURITE)";
        var app = $"http://localhost:{Text(settings.AppPort)}";
        var headline = hostKind is null
            ? "Storefront services are running; start the app yourself (cd functions/Storefront.Api && func start)"
            : $"Storefront API is running ({hostKind})";
        var tryIt = hostKind is null
            ? string.Empty
            : string.Join(
                Environment.NewLine,
                "Try:",
                $"  curl {app}/api/health",
                $"  curl '{app}/api/products/SKU-00042?currency=EUR'",
                $"  curl -i -X POST {app}/api/orders -H 'x-functions-key: local-function-key' \\",
                "    -H 'Content-Type: application/json' -H \"Idempotency-Key: demo-$RANDOM\" \\",
                $"    -d '{SampleOrder}'",
                string.Empty);
        Console.WriteLine(
            $$"""

              {{headline}}, {{clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}} s after start
                API        {{(hostKind is null ? "not started (--no-app); the app's port is " + Text(settings.AppPort) : app + "/api/")}}
                Dashboard  http://127.0.0.1:{{Text(settings.DashboardPort)}} (resources, console logs, the app's traces and metrics; no login, this machine only)
                Simulator  http://127.0.0.1:{{Text(settings.SimulatorPort)}}
                PostgreSQL {{postgres}} (psql -h {{postgres.Host}} -p {{postgres.Port}} -U {{postgres.Username}} {{postgres.Database}})
                Azurite    {{storage}}
                Logs       {{logs}}/ (one file per resource)

              {{tryIt}}
              Press Ctrl-C to stop.

              """);
    }
}
