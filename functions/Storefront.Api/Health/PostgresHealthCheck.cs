using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Health;

/// <summary>Healthy when a query round-trips through the app's data source and the schema is migrated.</summary>
public sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public const string Name = "postgres";

    // The first migration creates products, so its absence means the database answers but was never migrated.
    private const string ProbeSql = "SELECT to_regclass('public.products') IS NOT NULL";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Npgsql ignores cancellation while a new connection waits for the server's first reply (only the connection
        // Timeout, 15 s by default, ends that), so stop waiting at the deadline and let that attempt end on its own.
        // A connection the server closed in a restart already behind it says nothing about the database now.
        var schemaMigrated = await dataSource.ReadAsync(IsSchemaMigratedAsync, cancellationToken).WaitAsync(cancellationToken);
        return schemaMigrated ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("schema not migrated");
    }

    private async Task<bool> IsSchemaMigratedAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(ProbeSql);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }
}
