using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Reports;

/// <summary>
/// Reports over HTTP (function key required), as asynchronous request-reply: create (202 + status URL), poll the
/// status (202 while it runs), then stream the CSV content.
/// </summary>
public sealed class ReportFunctions(ReportRequests requests, ReportStore reports, ReportGenerator generator)
{
    private static readonly TimeSpan OpenContentTimeout = TimeSpan.FromSeconds(5);

    [Function("CreateReport")]
    public async Task<Results<Accepted<ReportView>, ProblemHttpResult>> CreateReport(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "reports")] HttpRequest request)
    {
        var body = await JsonBody.ReadAsync<CreateReportRequest>(request);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        var result = await requests.RequestAsync(body.Value!, request.HttpContext.RequestAborted);
        switch (result)
        {
            case ReportRequestResult.Accepted accepted:
                request.HttpContext.Response.Headers.RetryAfter = "2";
                return TypedResults.Accepted($"/api/reports/{accepted.Report.Id}", accepted.Report);
            case ReportRequestResult.Invalid invalid:
                return Problems.BadRequest("The report request is invalid.", invalid.Errors);
            case ReportRequestResult.DependencyUnavailable:
                return Problems.Unavailable(request.HttpContext, "Exchange rates are unavailable; try again shortly.");
            default:
                throw new InvalidOperationException($"Unhandled report request result {result}.");
        }
    }

    [Function("GetReport")]
    public async Task<Results<Ok<ReportView>, Accepted<ReportView>, ProblemHttpResult>> GetReport(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "reports/{id}")] HttpRequest request,
        string id)
    {
        if (!Guid.TryParseExact(id, "D", out var reportId))
        {
            return Problems.BadRequest(nameof(id), "A report id is a UUID.");
        }

        if (await reports.GetAsync(reportId, request.HttpContext.RequestAborted) is not { } report)
        {
            return Problems.NotFound($"No report with id '{reportId}'.");
        }

        if (report.Status is ReportStatus.Queued or ReportStatus.Running)
        {
            request.HttpContext.Response.Headers.RetryAfter = "2";
            return TypedResults.Accepted($"/api/reports/{reportId}", report);
        }

        return TypedResults.Ok(report);
    }

    [Function("GetReportContent")]
    public async Task<Results<FileStreamHttpResult, ProblemHttpResult>> GetReportContent(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "reports/{id}/content")] HttpRequest request,
        string id)
    {
        if (!Guid.TryParseExact(id, "D", out var reportId))
        {
            return Problems.BadRequest(nameof(id), "A report id is a UUID.");
        }

        var aborted = request.HttpContext.RequestAborted;
        var report = await reports.GetAsync(reportId, aborted);
        if (report is null)
        {
            return Problems.NotFound($"No report with id '{reportId}'.");
        }

        if (report.Status != ReportStatus.Ready)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"The report is {report.Status}, not ready.");
        }

        try
        {
            // Streamed from the blob as it is read: the CSV is never held in memory whole. Opening it is bounded, so
            // that storage being down answers 503 at once instead of after the storage client's own retries.
            using var opening = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            opening.CancelAfter(OpenContentTimeout);
            var content = await generator.OpenReadAsync(reportId, opening.Token);
            return TypedResults.Stream(content, "text/csv; charset=utf-8", $"{report.Kind}-{report.From}-{report.To}.csv");
        }
        catch (Exception exception) when (IsStorageFailure(exception) && !aborted.IsCancellationRequested)
        {
            return Problems.Unavailable(request.HttpContext, "The report content cannot be read right now.");
        }
    }

    // The storage client's retries end in an AggregateException of the attempts' failures.
    private static bool IsStorageFailure(Exception exception) =>
        exception is Azure.RequestFailedException or AggregateException or HttpRequestException or OperationCanceledException;
}
