using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Storefront.Api.Catalog;

/// <summary>
/// The product rows that product reads showed recently, kept in this instance's memory for
/// <see cref="CatalogOptions.ProductCacheDuration"/>: a catalog is read far more often than it changes, so most reads of a
/// popular product need no database round trip, and they are still answered while the database fails over. Only rows
/// that exist are kept (a read of an unknown sku always asks the database, so the entries are bounded by the catalog),
/// and orders price their lines from the database, never from here.
/// </summary>
/// <remarks>
/// <see cref="IMemoryCache"/> (the one HybridCache uses as its local tier) rather than HybridCache itself, which would
/// also keep the "no such product" answers.
/// </remarks>
public sealed class ProductCache(IMemoryCache memory, ProductStore store, IOptions<CatalogOptions> options)
{
    public bool TryGet(string sku, [NotNullWhen(true)] out ProductRow? row) => memory.TryGetValue(new Key(sku), out row) && row is not null;

    /// <summary>Reads the row from the database and keeps it when there is one.</summary>
    public async Task<ProductRow?> LoadAsync(string sku, CancellationToken cancellationToken)
    {
        var row = await store.GetAsync(sku, cancellationToken);
        if (row is not null && options.Value.ProductCacheDuration > TimeSpan.Zero)
        {
            memory.Set(new Key(sku), row, options.Value.ProductCacheDuration);
        }

        return row;
    }

    /// <summary>A key of its own type, so that it cannot meet another feature's entries in the shared cache.</summary>
    private readonly record struct Key(string Sku);
}
