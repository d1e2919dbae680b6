using System.Collections.Concurrent;

namespace Storefront.ServiceSimulator;

/// <summary>
/// The card processor's view of payments: each authorization opens an account that can be captured once, or voided
/// while uncaptured. Capture and void calls are idempotent by their own <c>Idempotency-Key</c> (a repeated call gets the
/// first answer and acts no more); a different key that asks for a second capture, a capture of a voided payment or
/// a void of a captured one is refused. Bounded like the idempotency stores: accounts and action keys beyond the
/// capacity are refused (507).
/// </summary>
internal sealed class PaymentLedger(int capacity)
{
    public const string Authorized = "authorized";
    public const string Declined = "declined";
    public const string Captured = "captured";
    public const string Voided = "voided";

    private Generation _current = new();

    public void Open(string paymentId, string status)
    {
        var generation = Volatile.Read(ref _current);
        if (generation.Accounts.Count < capacity)
        {
            generation.Accounts.TryAdd(paymentId, new PaymentAccount(status));
        }
    }

    public PaymentAccount? Find(string paymentId) => Volatile.Read(ref _current).Accounts.GetValueOrDefault(paymentId);

    /// <summary>Applies a capture or void once per idempotency key.</summary>
    public PaymentActionOutcome Apply(string paymentId, string action, string idempotencyKey)
    {
        var generation = Volatile.Read(ref _current);
        var actionKey = $"{action}\n{idempotencyKey}";
        if (generation.Actions.TryGetValue(actionKey, out var replay))
        {
            return replay with { Replayed = true };
        }

        if (generation.Accounts.GetValueOrDefault(paymentId) is not { } account)
        {
            return new PaymentActionOutcome(PaymentActionResult.Unknown, null);
        }

        if (generation.Actions.Count >= capacity)
        {
            return new PaymentActionOutcome(PaymentActionResult.Full, account.Status);
        }

        lock (account)
        {
            // Re-checked under the account's lock: concurrent calls with one key act once.
            if (generation.Actions.TryGetValue(actionKey, out replay))
            {
                return replay with { Replayed = true };
            }

            var target = action == "capture" ? Captured : Voided;
            if (account.Status != Authorized)
            {
                return new PaymentActionOutcome(PaymentActionResult.Refused, account.Status);
            }

            account.Status = target;
            if (target == Captured)
            {
                account.Captures++;
            }
            else
            {
                account.Voids++;
            }

            var outcome = new PaymentActionOutcome(PaymentActionResult.Done, target);
            generation.Actions[actionKey] = outcome;
            return outcome;
        }
    }

    public void Clear() => Volatile.Write(ref _current, new Generation());

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<string, PaymentAccount> Accounts = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, PaymentActionOutcome> Actions = new(StringComparer.Ordinal);
    }
}

/// <summary>One payment's state; changed only under its own lock.</summary>
internal sealed class PaymentAccount(string status)
{
    public string Status { get; set; } = status;

    public int Captures { get; set; }

    public int Voids { get; set; }
}

internal enum PaymentActionResult
{
    Done,
    Refused,
    Unknown,
    Full,
}

internal sealed record PaymentActionOutcome(PaymentActionResult Result, string? Status, bool Replayed = false);
