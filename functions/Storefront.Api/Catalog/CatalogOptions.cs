namespace Storefront.Api.Catalog;

/// <summary>Catalog settings, bound from <c>Catalog:*</c>.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>
    /// Everything one product read may take, counted from the request's arrival at the worker; dependencies still
    /// pending then are dropped as degraded.
    /// </summary>
    public TimeSpan RequestBudget { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>
    /// A request that waited this long between its arrival at the worker and the function's start is refused (503
    /// with Retry-After): what is left of its budget would mostly serve a degraded answer late, to a client that
    /// is better off retrying, and refusing costs the overloaded process almost nothing. Not lower: a new worker also
    /// compiles the code of each path the first time it runs it. (Its requests before its first answer, which wait
    /// while the Functions pipeline itself is compiled, are not timed at all: see RequestArrival.)
    /// </summary>
    public TimeSpan MaxWaitBeforeStart { get; set; } = TimeSpan.FromMilliseconds(600);

    /// <summary>
    /// The product rows' own bound, apart from the budget: without a row there is no answer at all, and a burst of
    /// reads on a fresh worker waits for new pooled connections longer than the enrichment may take.
    /// </summary>
    public TimeSpan RowReadTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a product read keeps a product's row (name, description, USD price) in memory (<see cref="ProductCache"/>);
    /// a change to a product shows within this time. Zero reads the database every time.
    /// </summary>
    public TimeSpan ProductCacheDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many products of one lookup call their services at the same time.</summary>
    public int LookupConcurrency { get; set; } = 8;
}
