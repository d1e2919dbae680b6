using System.Text.Json;
using System.Text.Json.Serialization;

namespace Storefront.Api.Catalog;

/// <summary>
/// Serialization code for the catalog's answers, generated at build time: no reflection to build the contracts'
/// metadata on the first request of a new worker, and less work on every request after it.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProductDetails))]
[JsonSerializable(typeof(ProductPage))]
[JsonSerializable(typeof(ProductLookupResponse))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
