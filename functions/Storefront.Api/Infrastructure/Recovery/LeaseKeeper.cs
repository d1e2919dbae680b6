using Microsoft.Extensions.Logging;

namespace Storefront.Api.Infrastructure.Recovery;

/// <summary>
/// Renews a row's lease in the background while its work runs, so that the lease can be short: a crashed
/// worker stops renewing, and its work is taken over once the lease runs out. Stops when disposed.
/// </summary>
public sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private LeaseKeeper(Func<CancellationToken, Task<bool>> renew, TimeSpan interval, ILogger logger, Guid id) =>
        _loop = RenewAsync(renew, interval, logger, id, _stop.Token);

    /// <param name="renew">Extends the lease; false when the lease is no longer ours (it was taken over).</param>
    public static LeaseKeeper Start(Func<CancellationToken, Task<bool>> renew, TimeSpan lease, ILogger logger, Guid id) =>
        new(renew, lease / 3, logger, id);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private static async Task RenewAsync(Func<CancellationToken, Task<bool>> renew, TimeSpan interval, ILogger logger, Guid id, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(interval, stop);
                try
                {
                    if (!await renew(stop))
                    {
                        // Our writes are guarded by the lease token, so the work's next write will find out and stop.
                        logger.LogWarning("The lease on {Id} was taken over; this invocation's further writes will be refused", id);
                        return;
                    }
                }
                catch (Exception exception) when (!stop.IsCancellationRequested)
                {
                    // The database is down: the work itself will hit the same outage and retry later.
                    logger.LogWarning("Could not renew the lease on {Id}: {Error}", id, exception.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
