using System.Text.RegularExpressions;

namespace Storefront.Api.Infrastructure;

/// <summary>Formats of identifiers the API accepts, checked before anything touches a dependency.</summary>
public static partial class Formats
{
    public static bool IsSku(string? value) => value is not null && SkuPattern().IsMatch(value);

    /// <summary>Three ASCII letters; whether the currency is supported is the FX service's answer.</summary>
    public static bool IsCurrencyCode(string? value) => value is not null && CurrencyPattern().IsMatch(value);

    [GeneratedRegex("^[A-Za-z0-9-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex SkuPattern();

    [GeneratedRegex("^[A-Za-z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex CurrencyPattern();
}
