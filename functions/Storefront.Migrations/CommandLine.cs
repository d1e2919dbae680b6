using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Npgsql;

namespace Storefront.Migrations;

internal enum Verb
{
    Migrate,
    Seed,
    SeedHistory,
}

/// <summary>The parsed arguments: two verbs, two options, nothing else.</summary>
internal sealed record CommandLine(Verb Verb, string ConnectionString, int ProductCount, HistoryOptions History)
{
    public const int DefaultHistoryLines = 100_000;
    public const int MaxHistoryLines = 50_000_000;
    public const string ConnectionStringVariable = "ConnectionStrings__Postgres";
    public const int DefaultProductCount = 10_000;

    // SKUs are SKU-00001..SKU-99999, so five digits bound the count.
    public const int MaxProductCount = 99_999;

    public static readonly string Usage = $"""
        Usage:
          Storefront.Migrations migrate [--connection <connection-string>]
          Storefront.Migrations seed [--connection <connection-string>] [--products <count>]
          Storefront.Migrations seed-history [--connection <cs>] [--lines <count>] [--from <yyyy-MM-dd>] [--days <n>] [--prefix <name>]

        Commands:
          migrate   Apply pending schema migrations, one transaction per script.
          seed      Insert the demo catalogue (SKU-00001..); existing rows are left as they are.
          seed-history  Write past confirmed orders (binary COPY) for reports and benchmarks; off unless run.
                    A history already written under the same prefix is left as it is.

        Options:
          --connection  Npgsql connection string. Default: the {ConnectionStringVariable} environment variable.
          --products    Number of demo products, 1..{MaxProductCount}. Default: {DefaultProductCount}.
          --lines       Order lines of history, 1..{MaxHistoryLines}. Default: {DefaultHistoryLines}.
          --from, --days  The history's first day and its length (1..3660). Default: 2025-01-01, 365.
          --prefix      Idempotency-key prefix of the generated orders. Default: history.

        Exit codes: 0 success, 1 failure, 2 bad usage.
        """;

    public static bool TryParse(
        IReadOnlyList<string> args,
        string? defaultConnectionString,
        [NotNullWhen(true)] out CommandLine? commandLine,
        [NotNullWhen(false)] out string? error)
    {
        commandLine = null;
        Verb verb;
        switch (args.Count > 0 ? args[0] : null)
        {
            case "migrate":
                verb = Verb.Migrate;
                break;
            case "seed":
                verb = Verb.Seed;
                break;
            case "seed-history":
                verb = Verb.SeedHistory;
                break;
            case null:
                error = "a command is required.";
                return false;
            default:
                error = $"unknown command '{args[0]}'.";
                return false;
        }

        var connectionString = defaultConnectionString;
        var productCount = DefaultProductCount;
        var history = new HistoryOptions(DefaultHistoryLines, new DateOnly(2025, 1, 1), 365, "history");
        for (var i = 1; i < args.Count; i += 2)
        {
            var option = args[i];
            if (i + 1 >= args.Count)
            {
                error = $"option '{option}' needs a value.";
                return false;
            }

            var value = args[i + 1];
            switch (option)
            {
                case "--connection":
                    connectionString = value;
                    break;
                case "--products" when verb == Verb.Seed:
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out productCount)
                        || productCount is < 1 or > MaxProductCount)
                    {
                        error = $"--products must be a whole number from 1 to {MaxProductCount}.";
                        return false;
                    }

                    break;
                case "--lines" when verb == Verb.SeedHistory:
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var lines) || lines is < 1 or > MaxHistoryLines)
                    {
                        error = $"--lines must be a whole number from 1 to {MaxHistoryLines}.";
                        return false;
                    }

                    history = history with { Lines = lines };
                    break;
                case "--from" when verb == Verb.SeedHistory:
                    if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var from))
                    {
                        error = "--from must be a date as yyyy-MM-dd.";
                        return false;
                    }

                    history = history with { From = from };
                    break;
                case "--days" when verb == Verb.SeedHistory:
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var days) || days is < 1 or > 3660)
                    {
                        error = "--days must be a whole number from 1 to 3660.";
                        return false;
                    }

                    history = history with { Days = days };
                    break;
                case "--prefix" when verb == Verb.SeedHistory:
                    if (value.Length is < 1 or > 40 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                    {
                        error = "--prefix is 1 to 40 letters, digits, '-' or '_'.";
                        return false;
                    }

                    history = history with { Prefix = value };
                    break;
                default:
                    error = $"unknown option '{option}' for '{args[0]}'.";
                    return false;
            }
        }

        if (string.IsNullOrWhiteSpace(connectionString))
        {
            error = $"no connection string: pass --connection or set {ConnectionStringVariable}.";
            return false;
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            error = $"invalid connection string: {ex.Message}";
            return false;
        }

        commandLine = new CommandLine(verb, connectionString, productCount, history);
        error = null;
        return true;
    }
}
