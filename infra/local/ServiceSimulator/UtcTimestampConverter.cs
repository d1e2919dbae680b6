using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Storefront.ServiceSimulator;

/// <summary>Writes timestamps fixed-width in UTC with 7 fractional digits (<c>2025-01-31T12:00:00.1234567Z</c>); reads any ISO 8601.</summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<char> text = stackalloc char[28];
        value.UtcDateTime.TryFormat(text, out var written, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        writer.WriteStringValue(text[..written]);
    }
}
