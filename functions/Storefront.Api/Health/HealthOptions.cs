namespace Storefront.Api.Health;

/// <summary>Health check settings, bound from <c>Health:*</c>.</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>The most each dependency check may take; the checks run concurrently.</summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
