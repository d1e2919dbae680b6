using System.Globalization;
using Storefront.Api.ExternalServices;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Reports;

/// <summary>Checks a report request field by field; every problem is reported, keyed by the field's name.</summary>
public static class ReportValidator
{
    public const int MaxRangeDays = 366;

    public static (ValidReport? Report, Dictionary<string, string[]> Errors) Validate(CreateReportRequest request)
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
