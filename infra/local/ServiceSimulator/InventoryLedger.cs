namespace Storefront.ServiceSimulator;

/// <summary>
/// Stateful stock: each sku starts at its deterministic level (<see cref="Rules.Available"/>, or a level set through the
/// admin API), reservations hold units until they are committed (sold), released, or expire. Available stock is the
/// starting level less held and committed units, so it really goes down and comes back. One lock guards it all: the
/// critical sections are a few arithmetic operations, and an untouched sku is read without it.
/// </summary>
internal sealed class InventoryLedger(SimulatorOptions options, SimulatorClock clock)
{
    public const string Held = "held";
    public const string Committed = "committed";
    public const string Released = "released";
    public const string Expired = "expired";

    private readonly Lock _gate = new();
    private readonly Dictionary<int, SkuLevel> _levels = [];
    private readonly Dictionary<string, Reservation> _reservations = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Reservation, DateTimeOffset> _expiries = new();
    private volatile bool _touched;

    public int Available(int number)
    {
        if (!_touched)
        {
            return Rules.Available(number);
        }

        lock (_gate)
        {
            ExpireDue();
            return _levels.TryGetValue(number, out var level) ? level.Available : Rules.Available(number);
        }
    }

    public StockRecord Stock(int number)
    {
        lock (_gate)
        {
            ExpireDue();
            var level = _levels.GetValueOrDefault(number) ?? new SkuLevel(Rules.Available(number));
            return new StockRecord(Rules.Sku(number), level.Starting, level.Held, level.Committed, level.Available);
        }
    }

    /// <summary>Sets a sku's starting level (held and committed units stay as they are).</summary>
    public StockRecord SetStarting(int number, int starting)
    {
        lock (_gate)
        {
            _touched = true;
            Level(number).Starting = starting;
        }

        return Stock(number);
    }

    /// <summary>
    /// Holds every line or none: the skus without enough available stock, or the held reservation. A reservation id
    /// seen before answers as it was (whatever the lines), so a retried request never holds twice.
    /// </summary>
    public ReserveOutcome Reserve(string reservationId, string orderId, IReadOnlyList<(int Number, int Quantity)> lines, TimeSpan ttl)
    {
        lock (_gate)
        {
            _touched = true;
            ExpireDue();
            if (_reservations.TryGetValue(reservationId, out var existing))
            {
                return new ReserveOutcome(existing.ToRecord(), [], Replayed: true);
            }

            if (_reservations.Count >= options.IdempotencyCapacity)
            {
                return new ReserveOutcome(null, [], Replayed: false, Full: true);
            }

            var wanted = lines.GroupBy(l => l.Number).Select(g => (Number: g.Key, Quantity: g.Sum(l => l.Quantity))).ToArray();
            var shortSkus = wanted.Where(w => Level(w.Number).Available < w.Quantity).Select(w => Rules.Sku(w.Number)).Order(StringComparer.Ordinal).ToArray();
            if (shortSkus.Length > 0)
            {
                return new ReserveOutcome(null, shortSkus, Replayed: false);
            }

            foreach (var (number, quantity) in wanted)
            {
                Level(number).Held += quantity;
            }

            var now = clock.UtcNow;
            var reservation = new Reservation(reservationId, orderId, wanted, now, now + ttl);
            _reservations.Add(reservationId, reservation);
            _expiries.Enqueue(reservation, reservation.ExpiresAt);
            return new ReserveOutcome(reservation.ToRecord(), [], Replayed: false);
        }
    }

    /// <summary>Commits (sells) or releases a held reservation; doing it again is a no-op that answers the same.</summary>
    /// <returns>The reservation after the call, and whether the call was refused (a commit of a released or expired one, a release of a committed one); null when unknown.</returns>
    public (ReservationRecord Record, bool Refused)? Settle(string reservationId, bool commit)
    {
        lock (_gate)
        {
            ExpireDue();
            if (!_reservations.TryGetValue(reservationId, out var reservation))
            {
                return null;
            }

            var target = commit ? Committed : Released;
            if (reservation.Status == Held)
            {
                foreach (var (number, quantity) in reservation.Lines)
                {
                    var level = Level(number);
                    level.Held -= quantity;
                    if (commit)
                    {
                        level.Committed += quantity;
                    }
                }

                reservation.Status = target;
                reservation.SettledAt = clock.UtcNow;
            }

            var settledAsAsked = reservation.Status == target || (!commit && reservation.Status == Expired);
            return (reservation.ToRecord(), !settledAsAsked);
        }
    }

    public List<ReservationRecord> Reservations(string? orderId)
    {
        lock (_gate)
        {
            ExpireDue();
            return _reservations.Values
                .Where(r => orderId is null || string.Equals(r.OrderId, orderId, StringComparison.Ordinal))
                .OrderBy(r => r.CreatedAt)
                .Select(r => r.ToRecord())
                .ToList();
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _levels.Clear();
            _reservations.Clear();
            _expiries.Clear();
            _touched = false;
        }
    }

    private SkuLevel Level(int number)
    {
        if (!_levels.TryGetValue(number, out var level))
        {
            level = new SkuLevel(Rules.Available(number));
            _levels.Add(number, level);
        }

        return level;
    }

    /// <summary>Held reservations past their expiry give their units back (each is dequeued once: bounded by the reservations).</summary>
    private void ExpireDue()
    {
        var now = clock.UtcNow;
        while (_expiries.TryPeek(out var reservation, out var expiresAt) && expiresAt <= now)
        {
            _expiries.Dequeue();
            if (reservation.Status != Held)
            {
                continue;
            }

            foreach (var (number, quantity) in reservation.Lines)
            {
                Level(number).Held -= quantity;
            }

            reservation.Status = Expired;
            reservation.SettledAt = expiresAt;
        }
    }

    private sealed class SkuLevel(int starting)
    {
        public int Starting { get; set; } = starting;

        public int Held { get; set; }

        public int Committed { get; set; }

        public int Available => Math.Max(0, Starting - Held - Committed);
    }

    private sealed class Reservation(string id, string orderId, (int Number, int Quantity)[] lines, DateTimeOffset createdAt, DateTimeOffset expiresAt)
    {
        public string OrderId { get; } = orderId;

        public (int Number, int Quantity)[] Lines { get; } = lines;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public string Status { get; set; } = Held;

        public DateTimeOffset? SettledAt { get; set; }

        public ReservationRecord ToRecord() => new(
            id, OrderId, Status, [.. Lines.Select(l => new ReservedLine(Rules.Sku(l.Number), l.Quantity))], CreatedAt, ExpiresAt, SettledAt);
    }
}

internal sealed record ReserveOutcome(ReservationRecord? Reservation, string[] ShortSkus, bool Replayed, bool Full = false);
