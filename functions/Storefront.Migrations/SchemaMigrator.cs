using DbUp;
using DbUp.Engine;
using DbUp.Postgresql;
using Npgsql;

namespace Storefront.Migrations;

/// <summary>Applies the embedded Scripts/NNNN_*.sql files that the journal table does not list yet, in name order.</summary>
internal static class SchemaMigrator
{
    public const string JournalSchema = "public";
    public const string JournalTable = "schemaversions";

    private static readonly string ScriptPrefix = $"{typeof(SchemaMigrator).Namespace}.Scripts.";

    // DbUp has no asynchronous API; this runs once, at deployment, in its own process.
    public static DatabaseUpgradeResult Migrate(NpgsqlDataSource dataSource) =>
        DeployChanges.To
            .PostgresqlDatabase(new PostgresqlConnectionManager(dataSource))
            .WithScriptsEmbeddedInAssembly(
                typeof(SchemaMigrator).Assembly,
                name => name.StartsWith(ScriptPrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .JournalToPostgresqlTable(JournalSchema, JournalTable)
            .WithTransactionPerScript()
            // Scripts are plain SQL; DbUp's $variable$ substitution would corrupt dollar-quoted bodies.
            .WithVariablesDisabled()
            .LogToConsole()
            .Build()
            .PerformUpgrade();
}
