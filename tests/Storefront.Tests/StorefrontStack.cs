using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Storefront.FunctionsHost;

namespace Storefront.Tests;

/// <summary>
/// The compiled function app under the local host, against the test Postgres and Azurite that the
/// test command provisioned (their connections come from the environment), shared by every test class.
/// </summary>
public sealed class StorefrontStack : IAsyncLifetime
{
    private ILoggerFactory? _logs;

    public FunctionsHost.FunctionsHost Host { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    public static string PostgresConnectionString => Required("ConnectionStrings__Postgres");

    public static string StorageConnectionString =>
        Environment.GetEnvironmentVariable("AzureWebJobsStorage") is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    public static string AppDirectory =>
        Environment.GetEnvironmentVariable("STOREFRONT_APP_DIR") is { Length: > 0 } value
            ? value
            : Path.GetFullPath(typeof(StorefrontStack).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AppDirectory").Value!);

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("STOREFRONT_TEST_LOGS") is { Length: > 0 } logFolder)
        {
            _logs = LoggerFactory.Create(logging => logging.AddProvider(new FileLoggerProvider(Path.Combine(logFolder, "storefront-host.log"))));
        }

        Database = NpgsqlDataSource.Create(PostgresConnectionString);
        Host = await FunctionsHost.FunctionsHost.StartAsync(
            new FunctionsHostOptions
            {
                AppDirectory = AppDirectory,
                HttpPort = 0,
                UseLocalSettingsFile = false,
                Settings = new Dictionary<string, string>
                {
                    ["ConnectionStrings__Postgres"] = PostgresConnectionString,
                    ["AzureWebJobsStorage"] = StorageConnectionString,
                },
                ShutdownGracePeriod = TimeSpan.FromSeconds(3),
            },
            _logs);
        Client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        await Database.DisposeAsync();
        _logs?.Dispose();
    }

    /// <summary>Runs the test command's control script for the test Postgres cluster (stop, start, status).</summary>
    public static Task PostgresAsync(string command) => ControlAsync("STOREFRONT_POSTGRES_CTL", command);

    private static async Task ControlAsync(string variable, string command)
    {
        var commandLine = Required(variable);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"{commandLine} {command}");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{commandLine} {command}' exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static string Required(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests with ./infra/local/test.sh, which provisions Postgres and Azurite.");

    /// <summary>Polls for a condition with a bound; returns whether it became true.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200);
        }

        return await condition();
    }
}

[CollectionDefinition(Name)]
public sealed class StorefrontCollection : ICollectionFixture<StorefrontStack>
{
    public const string Name = "storefront";
}
