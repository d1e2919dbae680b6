using System.Text.Json;
using System.Text.Json.Serialization;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// The read services' payloads, parsed by code generated at build time (the web defaults that ReadFromJsonAsync uses
/// otherwise): two of them are parsed on every product read.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StockLevel))]
[JsonSerializable(typeof(RatingSummary))]
[JsonSerializable(typeof(FxRatesSnapshot))]
internal sealed partial class ReadJsonContext : JsonSerializerContext;
