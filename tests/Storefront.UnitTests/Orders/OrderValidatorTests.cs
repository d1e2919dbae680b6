using Storefront.Api.Orders;

namespace Storefront.UnitTests.Orders;

public sealed class OrderValidatorTests
{
    private static PlaceOrderRequest Valid() => new(
        "c-123", "a@example.com", "EUR", [new OrderLineRequest("SKU-00042", 2), new OrderLineRequest("SKU-00043", 1)], new ShipToRequest("NL", "1011AB"));

    [Fact]
    public void A_valid_request_is_trimmed_and_its_codes_upper_cased()
    {
        var request = new PlaceOrderRequest(
            " c-123 ", " a@example.com ", "eur", [new OrderLineRequest("SKU-00042", 2)], new ShipToRequest(" nl ", " 1011 AB "));

        var (order, errors) = OrderValidator.Validate(request);

        Assert.Empty(errors);
        Assert.NotNull(order);
        Assert.Equal(("c-123", "a@example.com", "EUR", "NL", "1011 AB"), (order.CustomerId, order.Email, order.Currency, order.Country, order.Postcode));
        Assert.Equal([new ValidLine("SKU-00042", 2)], order.Lines);
    }

    public static TheoryData<PlaceOrderRequest, string> InvalidFields() => new()
    {
        { Valid() with { CustomerId = null }, "customerId" },
        { Valid() with { CustomerId = "c 123" }, "customerId" },
        { Valid() with { CustomerId = new string('c', 65) }, "customerId" },
        { Valid() with { Email = "not-an-address" }, "email" },
        { Valid() with { Email = "a@localhost" }, "email" },
        { Valid() with { Email = "A <a@example.com>" }, "email" },
        { Valid() with { Email = new string('a', 243) + "@example.com" }, "email" },
        { Valid() with { Currency = "EURO" }, "currency" },
        { Valid() with { Currency = null }, "currency" },
        { Valid() with { Lines = null }, "lines" },
        { Valid() with { Lines = [] }, "lines" },
        { Valid() with { Lines = [null] }, "lines[0]" },
        { Valid() with { Lines = [new OrderLineRequest("SKU 42", 1)] }, "lines[0].sku" },
        { Valid() with { Lines = [new OrderLineRequest(null, 1)] }, "lines[0].sku" },
        { Valid() with { Lines = [new OrderLineRequest("SKU-00042", 1), new OrderLineRequest("SKU-00042", 2)] }, "lines[1].sku" },
        { Valid() with { Lines = [new OrderLineRequest("SKU-00042", 0)] }, "lines[0].quantity" },
        { Valid() with { Lines = [new OrderLineRequest("SKU-00042", OrderValidator.MaxQuantity + 1)] }, "lines[0].quantity" },
        { Valid() with { Lines = [new OrderLineRequest("SKU-00042", null)] }, "lines[0].quantity" },
        { Valid() with { ShipTo = new ShipToRequest("XX", "1011AB") }, "shipTo.country" },
        { Valid() with { ShipTo = new ShipToRequest("NL", "-1011") }, "shipTo.postcode" },
        { Valid() with { ShipTo = new ShipToRequest("NL", new string('1', 17)) }, "shipTo.postcode" },
    };

    [Theory]
    [MemberData(nameof(InvalidFields))]
    public void An_invalid_field_is_named_by_its_json_path(PlaceOrderRequest request, string field)
    {
        var (order, errors) = OrderValidator.Validate(request);

        Assert.Null(order);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var request = new PlaceOrderRequest(null, "x", "E", [new OrderLineRequest("SKU-1", 0), null], null);

        var (order, errors) = OrderValidator.Validate(request);

        Assert.Null(order);
        Assert.Equal(
            ["currency", "customerId", "email", "lines[0].quantity", "lines[1]", "shipTo.country", "shipTo.postcode"],
            errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_limits_themselves_are_accepted()
    {
        var lines = Enumerable.Range(1, OrderValidator.MaxLines).Select(i => new OrderLineRequest($"SKU-{i:D5}", OrderValidator.MaxQuantity)).ToArray();

        Assert.Empty(OrderValidator.Validate(Valid() with { Lines = lines }).Errors);
        Assert.Contains("lines", OrderValidator.Validate(Valid() with { Lines = [.. lines, new OrderLineRequest("SKU-99999", 1)] }).Errors.Keys);
    }
}
