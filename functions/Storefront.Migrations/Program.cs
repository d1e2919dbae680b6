using System.CommandLine;
using System.Globalization;
using Npgsql;
using Storefront.Migrations;

// Exit codes: 0 success, 1 failure, 2 bad usage.
const string ConnectionStringVariable = "ConnectionStrings__Postgres";
const int MaxProductCount = 99_999; // skus are SKU-00001..SKU-99999
const int MaxHistoryLines = 50_000_000;

var connection = new Option<string>("--connection")
{
    Description = $"Npgsql connection string. Default: the {ConnectionStringVariable} environment variable.",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ConnectionStringVariable) ?? string.Empty,
};
connection.Validators.Add(result =>
{
    var value = result.GetValueOrDefault<string>();
    if (string.IsNullOrWhiteSpace(value))
    {
        result.AddError($"No connection string: pass --connection or set {ConnectionStringVariable}.");
        return;
    }

    try
    {
        _ = new NpgsqlConnectionStringBuilder(value);
    }
    catch (ArgumentException exception)
    {
        result.AddError($"Invalid connection string: {exception.Message}");
    }
});

var products = new Option<int>("--products") { Description = $"Number of demo products, 1..{MaxProductCount}.", DefaultValueFactory = _ => 10_000 };
products.Validators.Add(result => InRange(result, 1, MaxProductCount));
var lines = new Option<int>("--lines") { Description = $"Order lines of history, 1..{MaxHistoryLines}.", DefaultValueFactory = _ => 100_000 };
lines.Validators.Add(result => InRange(result, 1, MaxHistoryLines));
var from = new Option<string>("--from") { Description = "The history's first day, yyyy-MM-dd.", DefaultValueFactory = _ => "2025-01-01" };
from.Validators.Add(result =>
{
    if (!DateOnly.TryParseExact(result.GetValueOrDefault<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
    {
        result.AddError("--from must be a date as yyyy-MM-dd.");
    }
});
var days = new Option<int>("--days") { Description = "The history's length in days, 1..3660.", DefaultValueFactory = _ => 365 };
days.Validators.Add(result => InRange(result, 1, 3660));
var prefix = new Option<string>("--prefix") { Description = "Idempotency-key prefix of the generated orders.", DefaultValueFactory = _ => "history" };
prefix.Validators.Add(result =>
{
    if (result.GetValueOrDefault<string>() is not { Length: >= 1 and <= 40 } value || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
    {
        result.AddError("--prefix is 1 to 40 letters, digits, '-' or '_'.");
    }
});

var migrate = new Command("migrate", "Apply pending schema migrations, one transaction per script.") { connection };
migrate.SetAction((parse, _) => RunAsync(parse.GetValue(connection)!, dataSource =>
{
    var result = SchemaMigrator.Migrate(dataSource);
    if (!result.Successful)
    {
        // DbUp has already printed the error; its script's transaction was rolled back.
        Console.Error.WriteLine($"error: migration failed at {result.ErrorScript?.Name ?? "start-up"}.");
        return Task.FromResult(1);
    }

    var applied = result.Scripts.Select(script => script.Name).ToList();
    Console.WriteLine(applied.Count > 0 ? $"Applied {applied.Count} script(s): {string.Join(", ", applied)}" : "No pending scripts; the schema is up to date.");
    return Task.FromResult(0);
}));

var seed = new Command("seed", "Insert the demo catalogue (SKU-00001..); existing rows are left as they are.") { connection, products };
seed.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(connection)!, async dataSource =>
{
    var count = parse.GetValue(products);
    var inserted = await DemoDataSeeder.SeedProductsAsync(dataSource, count, cancellationToken);
    Console.WriteLine($"Seeded products: {inserted} inserted, {count - inserted} already present.");
    return 0;
}));

var seedHistory = new Command(
    "seed-history",
    "Write past confirmed orders (binary COPY) for reports and benchmarks; a history already written under the same prefix is left as it is.")
{
    connection, lines, from, days, prefix,
};
seedHistory.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(connection)!, async dataSource =>
{
    var history = new HistoryOptions(
        parse.GetValue(lines),
        DateOnly.ParseExact(parse.GetValue(from)!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
        parse.GetValue(days),
        parse.GetValue(prefix)!);
    var started = System.Diagnostics.Stopwatch.GetTimestamp();
    var written = await HistoryGenerator.GenerateAsync(dataSource, history, cancellationToken);
    Console.WriteLine(written > 0
        ? $"Wrote {written} order lines of history in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s."
        : $"History '{history.Prefix}' already exists; nothing written.");
    return 0;
}));

var root = new RootCommand("The storefront database: schema migrations and demo data.") { migrate, seed, seedHistory };
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

return await parsed.InvokeAsync();

static void InRange(System.CommandLine.Parsing.OptionResult result, int min, int max)
{
    if (result.GetValueOrDefault<int>() is var value && (value < min || value > max))
    {
        result.AddError($"{result.Option.Name} must be a whole number from {min} to {max}.");
    }
}

static async Task<int> RunAsync(string connectionString, Func<NpgsqlDataSource, Task<int>> action)
{
    await using var dataSource = NpgsqlDataSource.Create(connectionString);
    try
    {
        return await action(dataSource);
    }
    catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException)
    {
        await Console.Error.WriteLineAsync($"error: {exception.Message}");
        return 1;
    }
}
