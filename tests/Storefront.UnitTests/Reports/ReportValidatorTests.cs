using Storefront.Api.Reports;

namespace Storefront.UnitTests.Reports;

public sealed class ReportValidatorTests
{
    [Fact]
    public void A_valid_request_is_normalized_and_its_currency_defaults_to_usd()
    {
        var (report, errors) = ReportValidator.Validate(new CreateReportRequest("sales-by-day", "2024-01-01", "2024-12-31", null));

        Assert.Empty(errors);
        Assert.Equal(new ValidReport("sales-by-day", new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31), "USD"), report);
        Assert.Equal("EUR", ReportValidator.Validate(new CreateReportRequest("top-products", "2024-01-01", "2024-01-01", "eur")).Report!.Currency);
    }

    [Theory]
    [InlineData("everything", "2024-01-01", "2024-01-31", "USD", "kind")]
    [InlineData(null, "2024-01-01", "2024-01-31", "USD", "kind")]
    [InlineData("sales-by-day", "2024-13-01", "2024-01-31", "USD", "from")]
    [InlineData("sales-by-day", "2024-02-01", "2024-01-31", "USD", "to")]
    [InlineData("sales-by-day", "2023-01-01", "2024-01-02", "USD", "to")]
    [InlineData("sales-by-day", "0001-01-01", "0001-01-31", "USD", "from")]
    [InlineData("sales-by-day", "9999-12-01", "9999-12-31", "USD", "from")]
    [InlineData("sales-by-day", "2024-01-01", "2024-01-31", "EURO", "currency")]
    public void Every_invalid_field_is_named(string? kind, string from, string to, string currency, string field)
    {
        var (report, errors) = ReportValidator.Validate(new CreateReportRequest(kind, from, to, currency));

        Assert.Null(report);
        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public void A_year_and_a_leap_day_is_the_longest_range()
    {
        Assert.Empty(ReportValidator.Validate(new CreateReportRequest("sales-by-day", "2024-01-01", "2024-12-31", "USD")).Errors);
        Assert.Equal(366, ReportValidator.MaxRangeDays);
        Assert.Contains("to", ReportValidator.Validate(new CreateReportRequest("sales-by-day", "2024-01-01", "2025-01-01", "USD")).Errors.Keys);
    }
}
