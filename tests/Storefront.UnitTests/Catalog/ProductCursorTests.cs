using System.Text;
using Storefront.Api.Catalog;

namespace Storefront.UnitTests.Catalog;

public sealed class ProductCursorTests
{
    [Theory]
    [InlineData("SKU-00001")]
    [InlineData("a")]
    public void A_cursor_round_trips_its_sku(string sku) => Assert.Equal(sku, ProductCursor.Decode(ProductCursor.Encode(sku)));

    [Fact]
    public void The_longest_sku_round_trips()
    {
        var longest = "SKU-" + new string('9', 60);
        Assert.Equal(longest, ProductCursor.Decode(ProductCursor.Encode(longest)));
    }

    [Fact]
    public void A_cursor_is_url_safe_base64_without_padding() => Assert.Equal("U0tVLTAwMDAx", ProductCursor.Encode("SKU-00001"));

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("U0tVLTAwMDAx=x")]
    public void Anything_that_is_not_base64url_is_refused(string cursor) => Assert.Null(ProductCursor.Decode(cursor));

    [Fact]
    public void A_cursor_that_does_not_name_a_sku_is_refused()
    {
        Assert.Null(ProductCursor.Decode(ProductCursor.Encode("not a sku; DROP TABLE")));
        Assert.Null(ProductCursor.Decode(Convert.ToBase64String([0xff, 0xfe, 0x00]).TrimEnd('=')));
        Assert.Null(ProductCursor.Decode(new string('A', 200)));
        Assert.Null(ProductCursor.Decode(ProductCursor.Encode(new string('A', 65))));
        Assert.NotNull(ProductCursor.Decode(Convert.ToBase64String(Encoding.UTF8.GetBytes("SKU-1")).TrimEnd('=')));
    }
}
