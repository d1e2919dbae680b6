using System.Text.Json.Serialization;
using Azure;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Storefront.Api.Health;

/// <summary>Body of GET /api/health: the overall status and one entry per dependency check.</summary>
public sealed record HealthResponse(string Status, IReadOnlyDictionary<string, DependencyHealth> Checks)
{
    public static HealthResponse From(HealthReport report) => new(
        StatusName(report.Status),
        report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new DependencyHealth(
                StatusName(entry.Value.Status),
                Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                entry.Value.Status == HealthStatus.Healthy ? null : ErrorOf(entry.Value)),
            StringComparer.Ordinal));

    private static string StatusName(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };

    // The endpoint is anonymous, so callers get a short fixed vocabulary; HealthCheckService logs the exception itself.
    private static string ErrorOf(HealthReportEntry entry) => entry.Exception switch
    {
        null => entry.Description ?? "unhealthy",
        OperationCanceledException => "timeout",
        PostgresException postgres => $"postgres error {postgres.SqlState}",
        RequestFailedException { Status: > 0 } storage => $"storage error {storage.Status} {storage.ErrorCode}".TrimEnd(),
        NpgsqlException or RequestFailedException or AggregateException or HttpRequestException => "unreachable",
        _ => "check failed",
    };
}

public sealed record DependencyHealth(
    string Status,
    double DurationMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
