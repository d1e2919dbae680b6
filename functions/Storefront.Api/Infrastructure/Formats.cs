using System.Text.RegularExpressions;

namespace Storefront.Api.Infrastructure;

/// <summary>Formats of identifiers the API accepts, checked before anything touches a dependency.</summary>
public static partial class Formats
{
    public static bool IsSku(string? value) => value is not null && SkuPattern().IsMatch(value);

    /// <summary>Three ASCII letters; whether the currency is supported is the FX service's answer.</summary>
    public static bool IsCurrencyCode(string? value) => value is not null && CurrencyPattern().IsMatch(value);

    /// <summary>The first day a report may cover: before the store's history, a date is a typo.</summary>
    public static readonly DateOnly EarliestReportDate = new(2000, 1, 1);

    /// <summary>The last day a report may cover, far from the end of the calendar, where dates overflow.</summary>
    public static readonly DateOnly LatestReportDate = new(2099, 12, 31);

    public static bool IsReportDate(DateOnly value) => value >= EarliestReportDate && value <= LatestReportDate;

    /// <summary>PostgreSQL text cannot hold U+0000; text a client sends with it is malformed, not an outage.</summary>
    public static bool HasNul(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex SkuPattern();

    [GeneratedRegex("^[A-Za-z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CurrencyPattern();
}
