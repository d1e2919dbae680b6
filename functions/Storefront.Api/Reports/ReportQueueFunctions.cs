using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Reports;

/// <summary>Report generation off the request path, and the end of the line for reports that keep failing.</summary>
public sealed class ReportQueueFunctions(ReportStore reports, ReportGenerator generator, ILogger<ReportQueueFunctions> logger)
{
    [Function("GenerateReport")]
    public async Task GenerateReport([QueueTrigger(ReportStore.QueueName)] string message, FunctionContext context)
    {
        var cancellationToken = context.CancellationToken;
        var reportId = Parse(message) ?? throw new InvalidOperationException("The message is not a report message.");
        if (await reports.ClaimAsync(reportId, cancellationToken) is not { } report)
        {
            logger.LogInformation("Report {ReportId} is finished or unknown; nothing to do", reportId);
            return;
        }

        try
        {
            var (blobName, rows, bytes) = await generator.GenerateAsync(reportId, report, cancellationToken);
            await reports.CompleteAsync(reportId, rows, bytes, blobName, cancellationToken);
            logger.LogInformation("Report {ReportId} ready: {Rows} rows, {Bytes} bytes", reportId, rows, bytes);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await reports.RecordFailureAsync(reportId, exception.Message, CancellationToken.None);
            throw;
        }
    }

    [Function("FailPoisonedReport")]
    public async Task FailPoisonedReport([QueueTrigger(ReportStore.QueueName + "-poison")] string message, FunctionContext context)
    {
        if (Parse(message) is { } reportId)
        {
            await reports.FailAsync(reportId, context.CancellationToken);
            logger.LogWarning("Report {ReportId} failed: its message reached the poison queue", reportId);
        }
        else
        {
            logger.LogError("A poison message is not a report message and is dropped: {Message}", DataSourceExtensions.BoundedError(message));
        }
    }

    private static Guid? Parse(string message)
    {
        try
        {
            return JsonSerializer.Deserialize<ReportMessage>(message, JsonSerializerOptions.Web)?.ReportId is { } id && id != Guid.Empty ? id : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
