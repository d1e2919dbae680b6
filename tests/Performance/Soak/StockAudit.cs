using Storefront.ServiceSimulator;

namespace Storefront.Soak;

/// <summary>
/// Never oversell, checked against the simulator's inventory (<c>GET /admin/reservations</c>, <c>GET /admin/stock/{sku}</c>)
/// once the orders are final: no sku has more units held and sold than it started with, no finished order still holds
/// its reservation, and every confirmed order's units were committed.
/// </summary>
/// <param name="Reservations">Reservations the simulator holds for these orders.</param>
/// <param name="OpenReservations">Finished orders whose reservation is still <c>held</c>.</param>
/// <param name="OversoldUnits">Units held or committed beyond a sku's starting level, summed over the skus these orders reserved.</param>
/// <param name="ConfirmedNotCommitted">Confirmed orders whose reservation is not <c>committed</c>.</param>
public sealed record StockAudit(int Reservations, int OpenReservations, int OversoldUnits, int ConfirmedNotCommitted)
{
    public bool Passed => OpenReservations == 0 && OversoldUnits == 0 && ConfirmedNotCommitted == 0;

    public static StockAudit Of(IReadOnlyCollection<StoredOrder> orders, IReadOnlyCollection<ReservationRecord> reservations, IReadOnlyCollection<StockRecord> stock)
    {
        var byOrder = reservations.ToLookup(r => r.OrderId, StringComparer.Ordinal);
        var audited = orders.Select(o => (Order: o, Reservation: byOrder[o.Id.ToString()].SingleOrDefault())).ToArray();
        return new StockAudit(
            Reservations: audited.Count(a => a.Reservation is not null),
            OpenReservations: audited.Count(a => a.Order.IsFinished && a.Reservation?.Status == "held"),
            OversoldUnits: stock.Sum(s => Math.Max(0, s.Held + s.Committed - s.Starting)),
            ConfirmedNotCommitted: audited.Count(a => a.Order.Status == "confirmed" && a.Reservation?.Status != "committed"));
    }
}
