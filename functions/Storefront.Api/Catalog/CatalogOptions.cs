namespace Storefront.Api.Catalog;

/// <summary>Catalog settings, bound from <c>Catalog:*</c>.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>Everything one product read may take; dependencies still pending then are dropped as degraded.</summary>
    public TimeSpan RequestBudget { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>How many products of one lookup call their services at the same time.</summary>
    public int LookupConcurrency { get; set; } = 8;
}
