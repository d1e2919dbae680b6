namespace Storefront.ServiceSimulator;

/// <summary>
/// A bounded, lock-free append log: <see cref="Reserve"/> a sequence number, build the item with it, <see cref="Publish"/> it.
/// The newest <c>capacity</c> items are kept; readers skip slots that were overwritten or are not yet published.
/// </summary>
internal sealed class RingLog<T>(int capacity, Func<T, long> sequenceOf)
    where T : class
{
    private readonly T?[] _slots = new T?[capacity];
    private long _next;
    private long _floor;

    public long Reserve() => Interlocked.Increment(ref _next) - 1;

    public void Publish(long sequence, T item) => Volatile.Write(ref _slots[sequence % _slots.Length], item);

    /// <summary>Forgets everything appended so far.</summary>
    public void Clear() => Interlocked.Exchange(ref _floor, Interlocked.Read(ref _next));

    /// <summary>The retained items in sequence order, optionally filtered.</summary>
    public List<T> Snapshot(Func<T, bool>? filter = null)
    {
        var end = Interlocked.Read(ref _next);
        var start = Math.Max(Interlocked.Read(ref _floor), end - _slots.Length);
        var items = new List<T>((int)Math.Min(end - start, 1024));
        for (var sequence = start; sequence < end; sequence++)
        {
            var item = Volatile.Read(ref _slots[sequence % _slots.Length]);
            if (item is not null && sequenceOf(item) == sequence && (filter is null || filter(item)))
            {
                items.Add(item);
            }
        }

        return items;
    }
}
