using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Storefront.ServiceSimulator;

internal enum StoreOutcome
{
    Added,
    Existing,
    Full,
}

/// <summary>The first request and response stored under an idempotency key.</summary>
internal sealed class IdempotencyEntry<TRequest, TResponse>(TRequest request, TResponse response, DateTimeOffset firstSeenAt)
{
    private int _charges;
    private int _requests = 1;

    public TRequest Request { get; } = request;

    public TResponse Response { get; } = response;

    public DateTimeOffset FirstSeenAt { get; } = firstSeenAt;

    public int Charges => Volatile.Read(ref _charges);

    public int Requests => Volatile.Read(ref _requests);

    public void Charge() => Interlocked.Increment(ref _charges);

    public void CountReplay() => Interlocked.Increment(ref _requests);
}

/// <summary>
/// Idempotency keys to their first result, bounded: a new key beyond the capacity is refused (the caller answers 507) rather than
/// growing without limit. Only the call whose entry wins the insert charges; concurrent callers with the same key get that entry.
/// </summary>
internal sealed class IdempotencyStore<TRequest, TResponse>(int capacity)
{
    private Generation _current = new();

    public int Count => Volatile.Read(ref _current).Count;

    public bool TryReplay(string key, [NotNullWhen(true)] out IdempotencyEntry<TRequest, TResponse>? entry)
    {
        if (Volatile.Read(ref _current).Entries.TryGetValue(key, out entry))
        {
            entry.CountReplay();
            return true;
        }

        return false;
    }

    public bool TryGet(string key, [NotNullWhen(true)] out IdempotencyEntry<TRequest, TResponse>? entry) =>
        Volatile.Read(ref _current).Entries.TryGetValue(key, out entry);

    public StoreOutcome TryAdd(string key, IdempotencyEntry<TRequest, TResponse> candidate, out IdempotencyEntry<TRequest, TResponse>? stored)
    {
        var generation = Volatile.Read(ref _current);
        if (TryReplay(key, out stored))
        {
            return StoreOutcome.Existing;
        }

        if (Interlocked.Increment(ref generation.Count) > capacity)
        {
            Interlocked.Decrement(ref generation.Count);
            stored = null;
            return StoreOutcome.Full;
        }

        stored = generation.Entries.GetOrAdd(key, candidate);
        if (!ReferenceEquals(stored, candidate))
        {
            Interlocked.Decrement(ref generation.Count);
            stored.CountReplay();
            return StoreOutcome.Existing;
        }

        candidate.Charge();
        return StoreOutcome.Added;
    }

    /// <summary>Every entry (lock-free enumeration; a moment-in-time view is not guaranteed).</summary>
    public IEnumerable<KeyValuePair<string, IdempotencyEntry<TRequest, TResponse>>> Entries() => Volatile.Read(ref _current).Entries;

    public void Clear() => Volatile.Write(ref _current, new Generation());

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<string, IdempotencyEntry<TRequest, TResponse>> Entries = new(StringComparer.Ordinal);
        public int Count;
    }
}
