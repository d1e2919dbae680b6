using Npgsql;
using Storefront.Migrations;

if (args is ["-h" or "--help" or "help"])
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

var defaultConnectionString = Environment.GetEnvironmentVariable(CommandLine.ConnectionStringVariable);
if (!CommandLine.TryParse(args, defaultConnectionString, out var commandLine, out var usageError))
{
    await Console.Error.WriteLineAsync($"error: {usageError}{Environment.NewLine}{Environment.NewLine}{CommandLine.Usage}");
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

await using var dataSource = NpgsqlDataSource.Create(commandLine.ConnectionString);
try
{
    if (commandLine.Verb == Verb.Migrate)
    {
        var result = SchemaMigrator.Migrate(dataSource);
        if (!result.Successful)
        {
            // DbUp has already printed the error; its script's transaction was rolled back.
            await Console.Error.WriteLineAsync($"error: migration failed at {result.ErrorScript?.Name ?? "start-up"}.");
            return 1;
        }

        var applied = result.Scripts.Select(script => script.Name).ToList();
        Console.WriteLine(applied.Count > 0
            ? $"Applied {applied.Count} script(s): {string.Join(", ", applied)}"
            : "No pending scripts; the schema is up to date.");
    }
    else if (commandLine.Verb == Verb.Seed)
    {
        var inserted = await DemoDataSeeder.SeedProductsAsync(dataSource, commandLine.ProductCount, cancellation.Token);
        Console.WriteLine($"Seeded products: {inserted} inserted, {commandLine.ProductCount - inserted} already present.");
    }
    else
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var lines = await HistoryGenerator.GenerateAsync(dataSource, commandLine.History, cancellation.Token);
        Console.WriteLine(lines > 0
            ? $"Wrote {lines} order lines of history in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s."
            : $"History '{commandLine.History.Prefix}' already exists; nothing written.");
    }

    return 0;
}
catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}");
    return 1;
}
