using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Reports;

/// <summary>
/// The background half of a report: generate its CSV into a blob, then mark it ready. Generating again overwrites
/// the blob, so a retry or a report left running by a dead worker simply starts over. At most
/// <see cref="ReportsOptions.MaxConcurrentGenerations"/> generate at once; the others wait, their leases renewed, for
/// at most <see cref="ReportsOptions.MaxWaitForTurn"/>, and are then deferred to a new message.
/// </summary>
public sealed class ReportProcessor(
    ReportStore reports,
    ReportGenerator generator,
    IOptions<ReportsOptions> options,
    IOptions<RecoveryOptions> recovery,
    ILogger<ReportProcessor> logger)
    : IQueuedWork<ReportJob>
{
    /// <summary>When a report deferred for want of a turn comes back: a turn frees whenever a report ends.</summary>
    private static readonly TimeSpan ComeBackAfter = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _generating = new(options.Value.MaxConcurrentGenerations, options.Value.MaxConcurrentGenerations);

    public string QueueName => ReportStore.QueueName;

    public Task<Claim<ReportJob>> ClaimAsync(Guid id, Guid leaseToken, CancellationToken cancellationToken) =>
        reports.ClaimAsync(id, leaseToken, recovery.Value.Lease, cancellationToken);

    public Task<bool> RenewLeaseAsync(Guid id, Guid leaseToken, CancellationToken cancellationToken) =>
        reports.RenewLeaseAsync(id, leaseToken, recovery.Value.Lease, cancellationToken);

    public DateTimeOffset? FirstFailureAt(ReportJob item) => item.FirstFailureAt;

    public Task RecordRetryAsync(Guid id, Guid leaseToken, string reason, TimeSpan delay, CancellationToken cancellationToken) =>
        reports.RecordRetryAsync(id, leaseToken, reason, delay, cancellationToken);

    public async Task RunAsync(ReportJob item, Guid leaseToken, WorkProgress progress, CancellationToken cancellationToken)
    {
        var (blobName, rows, bytes) = await GenerateInTurnAsync(item, leaseToken, progress, cancellationToken);
        progress.Step = "completing the report";
        await reports.CompleteAsync(item.Id, leaseToken, rows, bytes, blobName, cancellationToken);
        logger.LogInformation("Report {ReportId} ready: {Rows} rows, {Bytes} bytes", item.Id, rows, bytes);
    }

    public Task FailAsync(ReportJob item, Guid leaseToken, string reason, CancellationToken cancellationToken) =>
        reports.FailAsync(item.Id, leaseToken, reason, cancellationToken);

    private async Task<(string BlobName, long Rows, long Bytes)> GenerateInTurnAsync(ReportJob item, Guid leaseToken, WorkProgress progress, CancellationToken cancellationToken)
    {
        progress.Step = "waiting for a turn to generate";
        if (!await _generating.WaitAsync(options.Value.MaxWaitForTurn, cancellationToken))
        {
            // Due again when its new message comes, so the sweep leaves it alone meanwhile; a lease taken over
            // meanwhile throws LeaseLostException here, and nothing is sent.
            await reports.DeferAsync(item.Id, leaseToken, ComeBackAfter, cancellationToken);
            throw new WorkDeferredException($"no turn within {options.Value.MaxWaitForTurn}", ComeBackAfter);
        }

        try
        {
            // A long wait may have outlasted the lease (a stalled renewal): then another invocation has the report.
            if (!await reports.RenewLeaseAsync(item.Id, leaseToken, recovery.Value.Lease, cancellationToken))
            {
                throw new LeaseLostException(item.Id);
            }

            progress.Step = "generating the report";
            return await generator.GenerateAsync(item.Id, item.Report, cancellationToken);
        }
        finally
        {
            _generating.Release();
        }
    }
}
