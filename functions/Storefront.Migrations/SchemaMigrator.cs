using DbUp;
using DbUp.Engine;
using DbUp.Postgresql;
using Npgsql;

namespace Storefront.Migrations;

/// <summary>Applies the embedded Scripts/NNNN_*.sql files that the journal table does not list yet, in name order.</summary>
public static class SchemaMigrator
{
    public const string JournalSchema = "public";
    public const string JournalTable = "schemaversions";

    private static readonly string ScriptPrefix = $"{typeof(SchemaMigrator).Namespace}.Scripts.";

    // DbUp has no asynchronous API: the migrations tool runs it once per deployment, the dev stack on a thread-pool thread.
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
