using Microsoft.AspNetCore.Http.HttpResults;

namespace Storefront.ServiceSimulator;

/// <summary>
/// What every simulated-service call goes through: latency, then hang or injected error, then the service's own handler; the call
/// is recorded in the call log just before the response is written (or when the client went away, as 499).
/// </summary>
internal sealed class Simulation(
    ServiceSettingsStore settings,
    RingLog<CallLogEntry> calls,
    SimulatorClock clock,
    SimulatorOptions options,
    IHostApplicationLifetime lifetime)
{
    public const int ClientClosedRequest = 499;
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private readonly TimeSpan _maxHang = TimeSpan.FromSeconds(options.MaxHangSeconds);

    public async Task RunAsync(HttpContext context, int service, Func<HttpContext, ValueTask<IResult>> handler)
    {
        var startedAt = clock.UtcNow;
        IResult result;
        try
        {
            result = await InjectAsync(context, service, settings.Get(service), startedAt) ?? await handler(context);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            Record(context, service, startedAt, ClientClosedRequest);
            return;
        }

        Record(context, service, startedAt, result is IStatusCodeHttpResult { StatusCode: { } status } ? status : StatusCodes.Status200OK);
        await result.ExecuteAsync(context);
    }

    private async ValueTask<IResult?> InjectAsync(HttpContext context, int service, ServiceSettings current, DateTimeOffset startedAt)
    {
        var latencyMs = current.LatencyMs + (current.JitterMs > 0 ? Random.Shared.Next(current.JitterMs + 1) : 0);
        var hang = current.HangRate > 0 && Random.Shared.NextDouble() < current.HangRate;
        var fail = !hang && current.ErrorRate > 0 && Random.Shared.NextDouble() < current.ErrorRate;
        var name = SimulatedServices.All[service];
        if (latencyMs > 0 || hang)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            try
            {
                await clock.DelayUntilAsync(startedAt.AddMilliseconds(latencyMs), linked.Token);
                if (hang)
                {
                    await clock.DelayUntilAsync(clock.UtcNow + _maxHang, linked.Token);
                    return Problems.HangBoundReached(name);
                }
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                return Problems.ShuttingDown();
            }
        }

        return fail ? Problems.Injected(name, current.ErrorStatus) : null;
    }

    private void Record(HttpContext context, int service, DateTimeOffset startedAt, int status)
    {
        var request = context.Request;
        var key = request.Headers.TryGetValue(IdempotencyKeyHeader, out var values) ? values.ToString() : null;
        var sequence = calls.Reserve();
        calls.Publish(
            sequence,
            new CallLogEntry(sequence, SimulatedServices.All[service], request.Method, request.Path.Value ?? "/", key, startedAt, clock.UtcNow, status));
    }
}
