using Storefront.ServiceSimulator;

namespace Storefront.Soak;

/// <summary>
/// Money follows the order, checked against the simulator's payments (<c>GET /admin/payments</c>) once the orders are
/// final: a confirmed order was captured exactly once, a rejected or failed one was never captured, and no finished
/// order left an authorization open (money held on the customer's card for nothing).
/// </summary>
/// <param name="Records">Payments the simulator stored for these orders.</param>
/// <param name="DoubleCharged">Orders with more than one payment, or a payment processed more than once.</param>
/// <param name="ConfirmedCapturedOnce">Confirmed orders whose one payment is captured, once.</param>
/// <param name="ConfirmedNotCapturedOnce">Confirmed orders without exactly one capture (none, or no payment at all).</param>
/// <param name="CapturedTwice">Orders captured more than once, whatever their status.</param>
/// <param name="OpenAuthorizations">Finished orders with a payment still <c>authorized</c>.</param>
/// <param name="Voids">Voided payments of these orders.</param>
/// <param name="CapturedButNotConfirmed">Rejected or failed orders with a capture.</param>
/// <param name="RejectedNotDeclined">Rejected orders without exactly one payment, <c>declined</c>.</param>
public sealed record PaymentAudit(
    int Records,
    int DoubleCharged,
    int ConfirmedCapturedOnce,
    int ConfirmedNotCapturedOnce,
    int CapturedTwice,
    int OpenAuthorizations,
    int Voids,
    int CapturedButNotConfirmed,
    int RejectedNotDeclined)
{
    public bool Passed =>
        DoubleCharged == 0 && ConfirmedNotCapturedOnce == 0 && CapturedTwice == 0 && OpenAuthorizations == 0 && CapturedButNotConfirmed == 0 && RejectedNotDeclined == 0;

    public static PaymentAudit Of(IReadOnlyCollection<StoredOrder> orders, IReadOnlyCollection<PaymentRecord> payments)
    {
        var byOrder = payments.ToLookup(p => p.Request.OrderId ?? string.Empty, StringComparer.Ordinal);
        var audited = orders.Select(o => (Order: o, Payments: byOrder[o.Id.ToString()].ToArray())).ToArray();
        return new PaymentAudit(
            Records: audited.Sum(a => a.Payments.Length),
            DoubleCharged: audited.Count(a => a.Payments.Length > 1 || a.Payments.Any(p => p.Charges > 1)),
            ConfirmedCapturedOnce: audited.Count(a => a.Order.Status == "confirmed" && CapturedOnce(a.Payments)),
            ConfirmedNotCapturedOnce: audited.Count(a => a.Order.Status == "confirmed" && !CapturedOnce(a.Payments)),
            CapturedTwice: audited.Count(a => a.Payments.Sum(p => p.Captures) > 1),
            OpenAuthorizations: audited.Count(a => a.Order.IsFinished && a.Payments.Any(p => p.State == "authorized")),
            Voids: audited.Sum(a => a.Payments.Sum(p => p.Voids)),
            CapturedButNotConfirmed: audited.Count(a => a.Order.Status is "rejected" or "failed" && a.Payments.Any(p => p.Captures > 0)),
            RejectedNotDeclined: audited.Count(a => a.Order.Status == "rejected" && a.Payments is not [{ State: "declined" }]));
    }

    private static bool CapturedOnce(PaymentRecord[] payments) => payments is [{ State: "captured", Captures: 1 }];
}
