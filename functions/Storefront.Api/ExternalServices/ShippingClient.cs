namespace Storefront.Api.ExternalServices;

public sealed record ShipmentResult(string ShipmentId, string Carrier, int EtaDays);

public sealed record ShipmentItem(string Sku, int Quantity);

/// <summary>Shipping: <c>POST /shipments</c>, idempotent by key like payments.</summary>
public sealed class ShippingClient(HttpClient http)
{
    public const string ServiceName = "Shipping";

    public Task<ShipmentResult> BookAsync(Guid orderId, string country, string postcode, IReadOnlyList<ShipmentItem> items, CancellationToken cancellationToken) =>
        IdempotentPost.SendAsync<ShipmentResult>(http, "shipments", orderId.ToString(), new { orderId, country, postcode, items }, cancellationToken);
}
