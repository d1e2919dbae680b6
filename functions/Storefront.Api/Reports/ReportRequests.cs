using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Reports;

public abstract record ReportRequestResult
{
    public sealed record Accepted(ReportView Report) : ReportRequestResult;

    public sealed record Invalid(Dictionary<string, string[]> Errors) : ReportRequestResult;

    public sealed record DependencyUnavailable(string Dependency) : ReportRequestResult;
}

/// <summary>
/// Requesting a report: validate, check the currency against the exchange rates, store the report with its outbox
/// message in one transaction, and hand the message to the queue. The CSV is generated in the background.
/// </summary>
public sealed class ReportRequests(ReportStore reports, FxRates fxRates, OutboxDispatcher outbox)
{
    public async Task<ReportRequestResult> RequestAsync(CreateReportRequest request, CancellationToken cancellationToken)
    {
        var (report, errors) = ReportValidator.Validate(request);
        if (report is null)
        {
            return new ReportRequestResult.Invalid(errors);
        }

        if (report.Currency != FxRates.BaseCurrency)
        {
            FxRatesSnapshot rates;
            try
            {
                rates = await fxRates.GetAsync(cancellationToken);
            }
            catch (Exception exception) when (DependencyFailures.IsServiceFailure(exception, cancellationToken))
            {
                return new ReportRequestResult.DependencyUnavailable("fx");
            }

            if (!rates.Rates.ContainsKey(report.Currency))
            {
                return new ReportRequestResult.Invalid(new() { ["currency"] = [$"'{report.Currency}' is not a supported currency."] });
            }
        }

        var (view, outboxId) = await reports.InsertAsync(report, cancellationToken);
        await outbox.TryDispatchAsync(outboxId, ReportStore.QueueName, new WorkMessage(view.Id).ToJson(), cancellationToken);
        return new ReportRequestResult.Accepted(view);
    }
}
