namespace Storefront.Api.Reports;

public sealed record CreateReportRequest(string? Kind, string? From, string? To, string? Currency);

/// <summary>A report's state; the content itself is fetched from <see cref="ContentUrl"/> once ready.</summary>
public sealed record ReportView(
    Guid Id,
    string Kind,
    string Status,
    string From,
    string To,
    string Currency,
    long? Rows,
    long? Bytes,
    string? FailureReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    string? ContentUrl);

/// <summary>A report to generate, as the queue function claimed it.</summary>
public sealed record ReportJob(Guid Id, ValidReport Report, DateTimeOffset? FirstFailureAt);

public sealed record ValidReport(string Kind, DateOnly From, DateOnly To, string Currency);

public static class ReportKinds
{
    public const string SalesByDay = "sales-by-day";
    public const string TopProducts = "top-products";

    public static readonly IReadOnlyList<string> All = [SalesByDay, TopProducts];
}

public static class ReportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Ready = "ready";
    public const string Failed = "failed";
}
