using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Storefront.Testing;

/// <summary>
/// What a local Functions host logs, its own records and those the worker sends it, kept in memory for tests that
/// check what an operator would read or wait for a state only the log shows. Holds the last <see cref="Capacity"/>
/// records. Compiled into each test project that needs it.
/// </summary>
public sealed class HostLog : ILoggerProvider
{
    private const int Capacity = 20_000;

    private readonly ConcurrentQueue<Record> _records = new();
    private long _written;

    public sealed record Record(long Sequence, LogLevel Level, string Category, string Message);

    /// <summary>How many records were written so far: pass it to <see cref="Since"/> to read what comes after.</summary>
    public long Mark => Interlocked.Read(ref _written);

    public IReadOnlyList<Record> Since(long mark) => [.. _records.Where(r => r.Sequence > mark)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogLevel level, string category, string message)
    {
        _records.Enqueue(new Record(Interlocked.Increment(ref _written), level, category, message));
        while (_records.Count > Capacity && _records.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(HostLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Add(logLevel, category, formatter(state, exception));
    }
}
