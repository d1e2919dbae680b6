using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Storefront.FunctionsHost;

/// <summary>
/// Appends log lines to one file through a bounded channel and a single writer, so test runs and
/// long local sessions keep the host's and the worker's logs without slowing invocations down.
/// When the channel is full, lines are dropped and counted rather than blocking the caller.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider
{
    private const int Capacity = 10_000;

    private readonly Channel<string> _lines = Channel.CreateBounded<string>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    private readonly Task _writer;
    private readonly LogLevel _minimumLevel;
    private long _dropped;

    public FileLoggerProvider(string path, LogLevel minimumLevel = LogLevel.Information)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _minimumLevel = minimumLevel;
        _writer = WriteAsync(path);
    }

    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    public void Dispose()
    {
        _lines.Writer.TryComplete();
        // Flushes what is queued; bounded by the channel's capacity.
        _writer.ConfigureAwait(false).GetAwaiter().GetResult();
    }

    private void Write(string line)
    {
        if (!_lines.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteAsync(string path)
    {
        await using var file = new StreamWriter(path, append: true);
        await foreach (var line in _lines.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await file.WriteLineAsync(line).ConfigureAwait(false);
            if (_lines.Reader.Count == 0)
            {
                await file.FlushAsync().ConfigureAwait(false);
            }
        }

        if (Interlocked.Read(ref _dropped) is > 0 and var dropped)
        {
            await file.WriteLineAsync($"({dropped} log lines dropped: the writer fell behind)").ConfigureAwait(false);
        }
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var time = DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            var line = $"{time} {logLevel,-11} {category}: {formatter(state, exception)}";
            provider.Write(exception is null ? line : $"{line}{Environment.NewLine}{exception}");
        }
    }
}
