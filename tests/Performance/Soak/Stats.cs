using System.Collections.Concurrent;

namespace Storefront.Soak;

/// <summary>Requests by endpoint and status, with latencies, overall and per minute of the run.</summary>
public sealed class Stats
{
    /// <summary>Status recorded when the caller's timeout ran out.</summary>
    public const int Timeout = -1;

    /// <summary>Status recorded when the connection failed (no HTTP answer at all).</summary>
    public const int ConnectionError = -2;

    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _counts = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _latencies = new();
    private readonly ConcurrentDictionary<int, MinuteStats> _minutes = new();

    public void Record(string endpoint, int status, double milliseconds, TimeSpan at)
    {
        _counts.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);
        _latencies.GetOrAdd(endpoint, _ => new ConcurrentQueue<double>()).Enqueue(milliseconds);
        var minute = _minutes.GetOrAdd((int)at.TotalMinutes, _ => new MinuteStats());
        minute.Add(status, milliseconds);
    }

    public IEnumerable<string> Endpoints => _latencies.Keys.Order(StringComparer.Ordinal);

    public long Count(string endpoint, Func<int, bool> status) => _counts.Where(c => c.Key.Endpoint == endpoint && status(c.Key.Status)).Sum(c => c.Value);

    public long Total(Func<int, bool> status) => _counts.Where(c => status(c.Key.Status)).Sum(c => c.Value);

    public IReadOnlyList<(int Status, long Count)> Statuses(string endpoint) =>
        _counts.Where(c => c.Key.Endpoint == endpoint).Select(c => (c.Key.Status, c.Value)).OrderBy(c => c.Status).ToArray();

    public double Percentile(string endpoint, double percentile) => Percentile(_latencies[endpoint].ToArray(), percentile);

    public double Max(string endpoint) => _latencies[endpoint].DefaultIfEmpty(0).Max();

    public IReadOnlyList<(int Minute, MinuteStats Stats)> Minutes => _minutes.OrderBy(m => m.Key).Select(m => (m.Key, m.Value)).ToArray();

    public static double Percentile(double[] values, double percentile)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(values);
        var rank = (int)Math.Ceiling(percentile / 100 * values.Length) - 1;
        return values[Math.Clamp(rank, 0, values.Length - 1)];
    }

    public sealed class MinuteStats
    {
        private readonly ConcurrentQueue<double> _latencies = new();
        private long _requests;
        private long _serverErrors;
        private long _unanswered;

        public long Requests => Interlocked.Read(ref _requests);

        public long ServerErrors => Interlocked.Read(ref _serverErrors);

        public long Unanswered => Interlocked.Read(ref _unanswered);

        public double P95 => Percentile(_latencies.ToArray(), 95);

        public void Add(int status, double milliseconds)
        {
            Interlocked.Increment(ref _requests);
            if (status >= 500)
            {
                Interlocked.Increment(ref _serverErrors);
            }
            else if (status < 0)
            {
                Interlocked.Increment(ref _unanswered);
            }

            _latencies.Enqueue(milliseconds);
        }
    }
}
