using System.Buffers.Text;
using System.Text;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Catalog;

/// <summary>The opaque <c>next</c>/<c>after</c> value of the product list: the last sku of a page, base64url-encoded.</summary>
public static class ProductCursor
{
    // A sku is at most 64 ASCII characters, so its cursor is at most 86; anything longer is not one of ours.
    private const int MaxLength = 86;

    public static string Encode(string sku) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(sku));

    /// <returns>The sku the cursor names, or null when it is not a cursor this API gave out.</returns>
    public static string? Decode(string cursor)
    {
        // TryDecodeFromChars throws on invalid input rather than answering false, so the input is checked first.
        if (cursor.Length > MaxLength || !Base64Url.IsValid(cursor, out var length))
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[length];
        Base64Url.TryDecodeFromChars(cursor, bytes, out var written);

        var sku = Encoding.UTF8.GetString(bytes[..written]);
        return Formats.IsSku(sku) ? sku : null;
    }
}
