using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Catalog;

public static class CatalogExtensions
{
    public static IHostApplicationBuilder AddCatalogFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CatalogOptions>()
            .Bind(builder.Configuration.GetSection(CatalogOptions.Section))
            .Validate(
                o => o.RequestBudget > TimeSpan.Zero && o.MaxWaitBeforeStart > TimeSpan.Zero && o.MaxWaitBeforeStart < o.RequestBudget
                     && o.RowReadTimeout > TimeSpan.Zero && o.ProductCacheDuration >= TimeSpan.Zero && o.LookupConcurrency is >= 1 and <= 64,
                "Catalog: RequestBudget and RowReadTimeout must be positive, MaxWaitBeforeStart positive and less than RequestBudget, ProductCacheDuration zero or more, LookupConcurrency 1..64.")
            .ValidateOnStart();
        // Typed results write with these options; the generated metadata comes first, reflection stays for the rest.
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, CatalogJsonContext.Default));
        builder.Services.AddSingleton<ProductStore>();
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<ProductCache>();
        builder.Services.AddSingleton<ProductDetailsReader>();
        return builder;
    }
}
