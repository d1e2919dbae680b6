using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly.Timeout;
using Storefront.Api.Catalog;
using Storefront.Api.ExternalServices;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// Makes a new worker able to answer whole from its first request: before the worker connects to the host (so before
/// the host sends it anything), it opens pooled database connections, fills the FX cache, and runs product reads
/// that open the inventory and reviews connections and compile the read path. It runs in
/// <see cref="IHostedLifecycleService.StartingAsync"/>, which the host calls before starting any hosted service,
/// the worker's gRPC client included. Bounded by <see cref="TimeLimit"/>: a dependency that is down at start
/// leaves that part cold, it does not keep the worker from starting.
/// </summary>
internal sealed partial class WarmUp(
    NpgsqlDataSource dataSource,
    ProductStore store,
    ProductDetailsReader reader,
    FxRates fxRates,
    IOptions<JsonOptions> json,
    ILogger<WarmUp> logger) : IHostedLifecycleService
{
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(8);

    /// <summary>Pooled connections opened at start: the product read holds one for about a millisecond, so a few serve a saturated worker.</summary>
    public const int DatabaseConnections = 8;

    /// <summary>
    /// Concurrent product reads after the first: each opens its own connection to inventory and to reviews. Few, as
    /// every call is a sample in the dependency's circuit breaker window, where successes at start would outweigh
    /// the first failures of a dependency that goes down right after.
    /// </summary>
    public const int ConcurrentReads = 4;

    /// <summary>FX calls at most, one after the other.</summary>
    public const int FxAttempts = 3;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeLimit);
        var started = Stopwatch.GetTimestamp();
        // Each step on its own: one that fails (its dependency is down) leaves the others warm.
        var pool = await TryAsync("database pool", () => dataSource.WarmUpAsync(DatabaseConnections, limit.Token), cancellationToken);
        var reads = await TryAsync("product reads", () => ReadProductsAsync(limit.Token), cancellationToken);
        var fx = await TryAsync("FX cache", () => FillFxCacheAsync(limit.Token), cancellationToken);
        LogDone(logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds, pool, reads, fx);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Warm-up done in {ElapsedMs:F0} ms: database pool {Pool}, product reads {Reads}, FX cache {Fx}")]
    private static partial void LogDone(ILogger logger, double elapsedMs, bool pool, bool reads, bool fx);

    [LoggerMessage(LogLevel.Warning, "Warm-up of the {Step} failed; the first requests may be slower or degraded")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string step);

    /// <summary>
    /// One read alone first (it compiles the read path, whose first calls can outlast the attempt timeouts), then
    /// concurrent reads, each opening connections of its own to inventory and reviews, then the answer's JSON. In the
    /// base currency, so that a failing FX service is asked only by <see cref="FillFxCacheAsync"/>.
    /// </summary>
    private async Task ReadProductsAsync(CancellationToken cancellationToken)
    {
        var (rows, _) = await store.ListAsync(null, ConcurrentReads, null, cancellationToken);
        if (rows.Count == 0)
        {
            return;
        }

        var first = await reader.ReadAsync(rows[0].Sku, FxRates.BaseCurrency, cancellationToken);
        await Task.WhenAll(rows.Select(row => reader.ReadAsync(row.Sku, FxRates.BaseCurrency, cancellationToken)));
        // The answer's serialization, with the options the typed results write with.
        JsonSerializer.SerializeToUtf8Bytes(first.Product, json.Value.SerializerOptions);
    }

    /// <summary>
    /// A few tries when a call times out (the first call of a new process can outlast the FX client's timeout); an FX
    /// service that answers with an error is not asked again, which would only count against its circuit.
    /// </summary>
    private async Task FillFxCacheAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await fxRates.GetAsync(cancellationToken);
                return;
            }
            catch (TimeoutRejectedException) when (attempt < FxAttempts)
            {
            }
        }
    }

    private async Task<bool> TryAsync(string step, Func<Task> warm, CancellationToken stopping)
    {
        try
        {
            await warm();
            return true;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException && !stopping.IsCancellationRequested)
        {
            LogStepFailed(logger, exception, step);
            return false;
        }
    }
}
