using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Reports;

/// <summary>
/// Long-running exports as asynchronous request-reply: create (202 + status URL), poll the status
/// (202 while it runs), then stream the CSV content.
/// </summary>
public sealed class ReportFunctions(ReportStore reports, ReportGenerator generator, FxRates fxRates, OutboxDispatcher outbox)
{
    public const int MaxRangeDays = 366;

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

        var aborted = request.HttpContext.RequestAborted;
        var (report, errors) = Validate(body.Value!);
        if (report is null)
        {
            return Problems.BadRequest("The report request is invalid.", errors);
        }

        try
        {
            if (report.Currency != FxRates.BaseCurrency && !(await fxRates.GetAsync(aborted)).Rates.ContainsKey(report.Currency))
            {
                return Problems.BadRequest("currency", $"'{report.Currency}' is not a supported currency.");
            }
        }
        catch (Exception exception) when (Dependencies.IsServiceFailure(exception, aborted))
        {
            return Problems.Unavailable(request.HttpContext, "Exchange rates are unavailable; try again shortly.");
        }

        try
        {
            var (view, outboxId) = await reports.InsertAsync(report, aborted);
            await outbox.TryDispatchAsync(outboxId, ReportStore.QueueName, new WorkMessage(view.Id).ToJson(), aborted);
            request.HttpContext.Response.Headers.RetryAfter = "2";
            return TypedResults.Accepted($"/api/reports/{view.Id}", view);
        }
        catch (Exception exception) when (Dependencies.IsDatabaseFailure(exception, aborted))
        {
            return Problems.Unavailable(request.HttpContext, "Reports cannot be created right now.");
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

        var aborted = request.HttpContext.RequestAborted;
        try
        {
            if (await reports.GetAsync(reportId, aborted) is not { } report)
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
        catch (Exception exception) when (Dependencies.IsDatabaseFailure(exception, aborted))
        {
            return Problems.Unavailable(request.HttpContext, "Reports cannot be read right now.");
        }
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
        try
        {
            var report = await reports.GetAsync(reportId, aborted);
            if (report is null)
            {
                return Problems.NotFound($"No report with id '{reportId}'.");
            }

            if (report.Status != ReportStatus.Ready)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"The report is {report.Status}, not ready.");
            }

            // Streamed from the blob as it is read: the CSV is never held in memory whole. Opening it is bounded, so
            // that storage being down answers 503 at once instead of after the storage client's own retries.
            using var opening = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            opening.CancelAfter(OpenContentTimeout);
            var content = await generator.OpenReadAsync(reportId, opening.Token);
            return TypedResults.Stream(content, "text/csv; charset=utf-8", $"{report.Kind}-{report.From}-{report.To}.csv");
        }
        catch (Exception exception) when (Dependencies.IsDatabaseFailure(exception, aborted) || (IsStorageFailure(exception) && !aborted.IsCancellationRequested))
        {
            return Problems.Unavailable(request.HttpContext, "The report content cannot be read right now.");
        }
    }

    // The storage client's retries end in an AggregateException of the attempts' failures.
    private static bool IsStorageFailure(Exception exception) =>
        exception is Azure.RequestFailedException or AggregateException or HttpRequestException or OperationCanceledException;

    internal static (ValidReport? Report, Dictionary<string, string[]> Errors) Validate(CreateReportRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Kind is null || !ReportKinds.All.Contains(request.Kind))
        {
            errors["kind"] = [$"kind is one of: {string.Join(", ", ReportKinds.All)}."];
        }

        var from = ParseDate(request.From, "from", errors);
        var to = ParseDate(request.To, "to", errors);
        if (from is { } start && to is { } end)
        {
            if (end < start)
            {
                errors["to"] = ["to must not be before from."];
            }
            else if (end.DayNumber - start.DayNumber + 1 > MaxRangeDays)
            {
                errors["to"] = [$"A report covers at most {MaxRangeDays} days."];
            }
        }

        var currency = request.Currency is null ? FxRates.BaseCurrency : request.Currency;
        if (!Formats.IsCurrencyCode(currency))
        {
            errors["currency"] = ["currency is a three-letter ISO 4217 code."];
        }

        return errors.Count > 0 ? (null, errors) : (new ValidReport(request.Kind!, from!.Value, to!.Value, currency.ToUpperInvariant()), errors);
    }

    private static DateOnly? ParseDate(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            errors[field] = [$"{field} is a date as yyyy-MM-dd."];
            return null;
        }

        // The calendar's ends (0001-01-01, 9999-12-31) become -infinity/infinity or overflow in the database.
        if (!Formats.IsReportDate(date))
        {
            errors[field] = [$"{field} is a date from {Formats.EarliestReportDate:yyyy-MM-dd} to {Formats.LatestReportDate:yyyy-MM-dd}."];
            return null;
        }

        return date;
    }
}
