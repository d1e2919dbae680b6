using Storefront.Api.Catalog;

namespace Storefront.UnitTests.Catalog;

public sealed class MoneyTests
{
    [Theory]
    [InlineData(10.00, "EUR", 0.92, 9.20)]
    [InlineData(19.99, "EUR", 0.925, 18.49)]
    [InlineData(0.05, "GBP", 0.9, 0.05)]
    [InlineData(10.00, "JPY", 150.05, 1501)]
    [InlineData(10.00, "KRW", 1375.555, 13756)]
    public void A_conversion_rounds_half_away_from_zero_to_the_currency_s_minor_units(double usd, string currency, double rate, double expected)
    {
        var converted = Money.Convert((decimal)usd, currency, (decimal)rate);

        Assert.Equal(new Money((decimal)expected, currency), converted);
    }
}
