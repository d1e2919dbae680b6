using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Npgsql;

namespace Storefront.Migrations;

internal enum Verb
{
    Migrate,
    Seed,
}

/// <summary>The parsed arguments: two verbs, two options, nothing else.</summary>
internal sealed record CommandLine(Verb Verb, string ConnectionString, int ProductCount)
{
    public const string ConnectionStringVariable = "ConnectionStrings__Postgres";
    public const int DefaultProductCount = 10_000;

    // SKUs are SKU-00001..SKU-99999, so five digits bound the count.
    public const int MaxProductCount = 99_999;

    public static readonly string Usage = $"""
        Usage:
          Storefront.Migrations migrate [--connection <connection-string>]
          Storefront.Migrations seed [--connection <connection-string>] [--products <count>]

        Commands:
          migrate   Apply pending schema migrations, one transaction per script.
          seed      Insert the demo catalogue (SKU-00001..); existing rows are left as they are.

        Options:
          --connection  Npgsql connection string. Default: the {ConnectionStringVariable} environment variable.
          --products    Number of demo products, 1..{MaxProductCount}. Default: {DefaultProductCount}.

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
            case null:
                error = "a command is required.";
                return false;
            default:
                error = $"unknown command '{args[0]}'.";
                return false;
        }

        var connectionString = defaultConnectionString;
        var productCount = DefaultProductCount;
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

        commandLine = new CommandLine(verb, connectionString, productCount);
        error = null;
        return true;
    }
}
