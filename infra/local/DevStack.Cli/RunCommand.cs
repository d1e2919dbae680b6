using System.Globalization;
using Npgsql;

namespace Storefront.DevStack.Cli;

/// <summary>The RUN command: the whole storefront on this machine, no Docker, no Azure.</summary>
public static class RunCommand
{
    // What local.settings.sample.json points at; anything else reaches the app as environment variables, which win
    // over local.settings.json Values in both hosts.
    private const string SamplePostgres = "Host=127.0.0.1;Port=55432;Database=storefront;Username=storefront;Password=storefront";
    private const int SampleAzuritePort = 10000;
    private const int SampleSimulatorPort = 7081;

    private const string SampleOrder =
        """{"customerId":"c-123","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00042","quantity":2}],"shipTo":{"country":"NL","postcode":"1011AB"}}""";

    public static async Task<int> RunAsync(RunSettings settings, CancellationToken stop)
    {
        var logs = Path.Combine(settings.StateDirectory, "logs");
        try
        {
            await Ports.EnsureFreeAsync(settings.SimulatorPort, "service simulator", "set STOREFRONT_SIMULATOR_PORT", stop);
            await Ports.EnsureFreeAsync(settings.AppPort, "app", "pass --port N or set STOREFRONT_PORT", stop);
            await using var stack = await DevStack.StartAsync(
                new DevStackOptions
                {
                    StateDirectory = settings.StateDirectory,
                    LogDirectory = logs,
                    PostgresPort = settings.PostgresPort,
                    AzuritePort = settings.AzuritePort,
                    ExternalPostgres = settings.ExternalPostgres,
                    ExternalStorage = settings.ExternalStorage,
                    SeedProducts = settings.SeedProducts,
                    PortHint = "set STOREFRONT_PG_PORT / STOREFRONT_AZURITE_PORT (or STOREFRONT_POSTGRES / STOREFRONT_AZURITE for servers you run yourself)",
                },
                Log,
                stop);

            await PrepareSettingsAsync(stop);
            var environment = Overrides(settings, stack);

            await using var simulator = await StartAsync(
                new ProcessSpec("simulator", "dotnet", [RepoPaths.SimulatorDll, "--urls", $"http://127.0.0.1:{Text(settings.SimulatorPort)}"])
                {
                    LogFile = Path.Combine(logs, "simulator.log"),
                },
                settings.SimulatorPort,
                settings.StateDirectory,
                TimeSpan.FromSeconds(60),
                stop);

            if (settings.NoApp)
            {
                PrintBanner(settings, stack, null, logs);
                await simulator.Child.WaitForExitAsync(Timeout.InfiniteTimeSpan, stop);
                Log($"the simulator exited with status {simulator.Child.ExitCode}");
                return 1;
            }

            var func = !settings.LocalHost ? FindOnPath("func") : null;
            var hostKind = func is null ? "local Functions host (infra/local/FunctionsHost.Cli)" : "Azure Functions Core Tools (func start)";
            Log($"starting the app with the {hostKind} on port {settings.AppPort}");
            var hostSpec = func is null
                ? new ProcessSpec("host", "dotnet", [RepoPaths.HostCliDll, "--app", RepoPaths.ApiOutput, "--port", Text(settings.AppPort)])
                : new ProcessSpec("host", func, ["start", "--port", Text(settings.AppPort)]) { WorkingDirectory = RepoPaths.ApiProject };
            await using var host = await StartAsync(
                hostSpec with { Environment = environment },
                settings.AppPort,
                settings.StateDirectory,
                TimeSpan.FromSeconds(180),
                stop);

            PrintBanner(settings, stack, hostKind, logs);
            await host.Child.WaitForExitAsync(Timeout.InfiniteTimeSpan, stop);
            Log($"the app host exited with status {host.Child.ExitCode}");
            return host.Child.ExitCode;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or TimeoutException or NpgsqlException or System.ComponentModel.Win32Exception)
        {
            Log($"error: {exception.Message}");
            return 1;
        }
        finally
        {
            Log("stopped");
        }
    }

    private static void Log(string message) => Console.Error.WriteLine($"[run] {message}");

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>local.settings.json from the sample (or completed from it), copied beside the built app, where the local host reads it.</summary>
    private static async Task PrepareSettingsAsync(CancellationToken cancellationToken)
    {
        var local = Path.Combine(RepoPaths.ApiProject, "local.settings.json");
        var added = await LocalSettings.EnsureAsync(Path.Combine(RepoPaths.Root, "local.settings.sample.json"), local, cancellationToken);
        if (added is null)
        {
            Log("created functions/Storefront.Api/local.settings.json from local.settings.sample.json");
        }
        else if (added.Count > 0)
        {
            Log($"added to local.settings.json from the sample: {string.Join(", ", added)}");
        }

        // The build copies it only when it existed at build time: the first run creates it after `dotnet run` built.
        File.Copy(local, Path.Combine(RepoPaths.ApiOutput, "local.settings.json"), overwrite: true);
    }

    /// <summary>The settings that differ from what local.settings.sample.json points at, as environment variables for the host.</summary>
    private static Dictionary<string, string> Overrides(RunSettings settings, DevStack stack)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stack.PostgresConnectionString != SamplePostgres)
        {
            environment["ConnectionStrings__Postgres"] = stack.PostgresConnectionString;
        }

        if (settings.ExternalStorage is not null || settings.AzuritePort != SampleAzuritePort)
        {
            environment["AzureWebJobsStorage"] = stack.StorageConnectionString;
        }

        if (settings.SimulatorPort != SampleSimulatorPort)
        {
            foreach (var service in DevStack.ServiceNames)
            {
                environment[$"Services__{service}__BaseUrl"] = $"http://127.0.0.1:{Text(settings.SimulatorPort)}";
            }
        }

        if (environment.Count > 0)
        {
            Log($"overridden by the environment: {string.Join(", ", environment.Keys.Select(k => k.StartsWith("Services__", StringComparison.Ordinal) ? "Services__*__BaseUrl" : k).Distinct())}");
        }

        return environment;
    }

    /// <summary>Starts a child that listens on a port, with a pid file in the state folder (a killed run's leftover is stopped first).</summary>
    private static async Task<Supervised> StartAsync(ProcessSpec spec, int port, string stateDirectory, TimeSpan within, CancellationToken cancellationToken)
    {
        var pidFile = new PidFile(Path.Combine(stateDirectory, $"{spec.Name}.pid"), spec.Name);
        await pidFile.ClearStaleAsync(spec.StopSignal, Log, cancellationToken);
        await Ports.EnsureFreeAsync(port, spec.Name, "see infra/local/README.md", cancellationToken);
        if (spec.LogFile is not null)
        {
            Log($"starting the {spec.Name} on http://127.0.0.1:{Text(port)} (log {spec.LogFile})");
        }

        var child = await ChildProcess.StartAsync(spec, cancellationToken);
        var supervised = new Supervised(child, pidFile);
        await pidFile.WriteAsync(child, cancellationToken);
        if (!await Ports.WaitOpenAsync(port, within, child, cancellationToken))
        {
            await supervised.DisposeAsync();
            throw new InvalidOperationException($"the {spec.Name} did not start listening on port {Text(port)}{(spec.LogFile is null ? string.Empty : $"; see {spec.LogFile}")}");
        }

        return supervised;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <param name="hostKind">null: the app is not started (--no-app).</param>
    private static void PrintBanner(RunSettings settings, DevStack stack, string? hostKind, string logs)
    {
        // The connection string without its password: this is printed, and an external server's may be a real one.
        var postgres = new NpgsqlConnectionStringBuilder(stack.PostgresConnectionString) { Password = null };
        var storage = stack.Azurite is { } azurite
            ? $"blob/queue/table on 127.0.0.1:{azurite.Options.BlobPort}/{azurite.Options.QueuePort}/{azurite.Options.TablePort}"
            : "external (STOREFRONT_AZURITE)";
        var app = $"http://localhost:{Text(settings.AppPort)}";
        var headline = hostKind is null
            ? "Storefront services are running; start the app yourself (cd functions/Storefront.Api && func start)"
            : $"Storefront API is running ({hostKind})";
        Console.WriteLine(
            $$"""

              {{headline}}
                API        {{app}}/api/
                PostgreSQL {{postgres}} (psql -h {{postgres.Host}} -p {{postgres.Port}} -U {{postgres.Username}} {{postgres.Database}})
                Azurite    {{storage}}
                Simulator  http://127.0.0.1:{{Text(settings.SimulatorPort)}} (log {{Path.Combine(logs, "simulator.log")}})
                Logs       {{logs}}/

              Try:
                curl {{app}}/api/health
                curl '{{app}}/api/products/SKU-00042?currency=EUR'
                curl -i -X POST {{app}}/api/orders -H 'x-functions-key: local-function-key' \
                  -H 'Content-Type: application/json' -H "Idempotency-Key: demo-$RANDOM" \
                  -d '{{SampleOrder}}'

              Press Ctrl-C to stop.

            """);
    }

    /// <summary>A child of the run and its pid file: disposing stops it (SIGTERM; the host stops its worker) and removes the file.</summary>
    private sealed class Supervised(ChildProcess child, PidFile pidFile) : IAsyncDisposable
    {
        public ChildProcess Child => child;

        public async ValueTask DisposeAsync()
        {
            if (!child.HasExited)
            {
                Log($"stopping the {child.Spec.Name} (pid {child.Id})");
            }

            await child.StopAsync(TimeSpan.FromSeconds(20));
            await child.DisposeAsync();
            pidFile.Delete();
        }
    }
}
