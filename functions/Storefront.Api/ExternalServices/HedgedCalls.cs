using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// How one read service is called (see <see cref="HedgingHandler"/>): its circuit breaker and attempt timeout, its hedge
/// budget, and when a hedge is sent. One instance per service for the life of the app, so that the breaker and the
/// budget outlive the message handlers that IHttpClientFactory rotates.
/// </summary>
public sealed partial class HedgedCalls
{
    private readonly HedgeBudget _budget;
    private readonly Func<bool> _mayHedge;

    /// <param name="attempt">What runs around each attempt: the circuit breaker and the attempt timeout.</param>
    /// <param name="mayHedge">Asked before each hedge (after the budget is known to allow one): false while the process is starved of CPU.</param>
    public HedgedCalls(ResiliencePipeline<HttpResponseMessage> attempt, TimeSpan timeout, TimeSpan hedgingDelay, HedgeBudget budget, Func<bool> mayHedge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(hedgingDelay, TimeSpan.Zero);
        Attempt = attempt;
        Timeout = timeout;
        HedgingDelay = hedgingDelay;
        _budget = budget;
        _mayHedge = mayHedge;
    }

    public ResiliencePipeline<HttpResponseMessage> Attempt { get; }

    /// <summary>Everything one call may take, the hedge included.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How long the first attempt runs alone before a hedge is sent.</summary>
    public TimeSpan HedgingDelay { get; }

    /// <summary>The circuit breaker and attempt timeout of one service, logging when the circuit opens and closes.</summary>
    public static ResiliencePipeline<HttpResponseMessage> AttemptPipeline(
        string serviceName, HttpCircuitBreakerStrategyOptions breaker, TimeSpan attemptTimeout, ILogger logger)
    {
        breaker.OnOpened = args =>
        {
            LogOpened(logger, serviceName, args.BreakDuration.TotalSeconds);
            return default;
        };
        breaker.OnClosed = _ =>
        {
            LogClosed(logger, serviceName);
            return default;
        };
        return new ResiliencePipelineBuilder<HttpResponseMessage>().AddCircuitBreaker(breaker).AddTimeout(attemptTimeout).Build();
    }

    /// <summary>
    /// A hedge answers a slow or failed attempt, not a refused one: a 429 asks for less load, and an open circuit or a
    /// full concurrency limit would refuse the hedge too. (A 503 is hedged: a dependency's instance that is briefly
    /// unavailable is the case hedging is for, and the budget bounds it.)
    /// </summary>
    public static bool ShouldHedge(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: BrokenCircuitException or RateLimiterRejectedException } => false,
        { Result.StatusCode: HttpStatusCode.TooManyRequests } => false,
        _ => HttpClientHedgingResiliencePredicates.IsTransient(outcome),
    };

    /// <summary>Every call deposits into the budget, whether or not it is hedged.</summary>
    public void RecordCall() => _budget.RecordPrimaryCall();

    /// <returns>Whether a hedge may be sent now (and its token was taken).</returns>
    public bool TryTakeHedge() => _mayHedge() && _budget.TryTakeExtraAttempt();

    [LoggerMessage(LogLevel.Warning, "Circuit of {Service} opened for {BreakSeconds:F0} s: its calls fail at once until then")]
    private static partial void LogOpened(ILogger logger, string service, double breakSeconds);

    [LoggerMessage(LogLevel.Information, "Circuit of {Service} closed")]
    private static partial void LogClosed(ILogger logger, string service);
}

/// <summary>
/// Idempotent reads with at most one hedge: the call gets <see cref="HedgedCalls.Timeout"/> in all; its first attempt
/// runs alone for <see cref="HedgedCalls.HedgingDelay"/>, or until it fails in a way worth hedging, and then, if the
/// budget allows, a second attempt races it and the first good answer wins (the other is cancelled). Each attempt runs
/// inside the service's circuit breaker and attempt timeout. Written for the read path instead of the library's standard
/// hedging handler, which does the same with a routing layer, a request snapshot, a rate limiter, telemetry and three
/// timers per call: about a quarter of what a product read allocated.
/// </summary>
public sealed class HedgingHandler(HedgedCalls calls) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        calls.RecordCall();
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        call.CancelAfter(calls.Timeout);
        try
        {
            var primary = AttemptAsync(request, call.Token);
            if (!primary.IsCompleted)
            {
                // No token for the delay: a cancelled call ends the primary attempt, which ends the wait, and the timer
                // of a call answered sooner just runs out, which costs less than a registration to cancel it.
                await Task.WhenAny(primary, Task.Delay(calls.HedgingDelay)).ConfigureAwait(false);
            }

            if ((primary.IsCompleted && !await HedgeAfterAsync(primary).ConfigureAwait(false)) || request.Content is not null || !calls.TryTakeHedge())
            {
                return await primary.ConfigureAwait(false);
            }

            using var hedgeCall = CancellationTokenSource.CreateLinkedTokenSource(call.Token);
            var hedge = AttemptAsync(Copy(request), hedgeCall.Token);
            var first = await Task.WhenAny(primary, hedge).ConfigureAwait(false);
            var second = first == primary ? hedge : primary;
            if (await HedgeAfterAsync(first).ConfigureAwait(false))
            {
                // The first to finish failed: the other one's outcome, whatever it is, is the call's.
                _ = DisposeWhenDoneAsync(first);
                return await second.ConfigureAwait(false);
            }

            if (second == primary)
            {
                await call.CancelAsync().ConfigureAwait(false);
            }
            else
            {
                await hedgeCall.CancelAsync().ConfigureAwait(false);
            }

            _ = DisposeWhenDoneAsync(second);
            return await first.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (call.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutRejectedException($"The call did not complete within {calls.Timeout.TotalMilliseconds:F0} ms.", calls.Timeout);
        }
    }

    /// <summary>Whether a finished attempt failed in a way worth a hedge (awaiting it does not wait: it has finished).</summary>
    private static async ValueTask<bool> HedgeAfterAsync(Task<HttpResponseMessage> attempt)
    {
        try
        {
            return HedgedCalls.ShouldHedge(Outcome.FromResult(await attempt.ConfigureAwait(false)));
        }
        catch (OperationCanceledException) when (attempt.IsCanceled)
        {
            return false;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return HedgedCalls.ShouldHedge(Outcome.FromException<HttpResponseMessage>(exception));
        }
    }

    /// <summary>A read's second attempt: a request can be sent once, so the hedge sends a copy (reads carry no content).</summary>
    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return copy;
    }

    private Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        calls.Attempt.ExecuteAsync(
            static (state, token) => new ValueTask<HttpResponseMessage>(state.Handler.SendNextAsync(state.Request, token)),
            (Handler: this, Request: request),
            cancellationToken).AsTask();

    private Task<HttpResponseMessage> SendNextAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    /// <summary>An attempt whose answer the caller does not get: its answer, if there is or still comes one, is released here.</summary>
    private static async Task DisposeWhenDoneAsync(Task<HttpResponseMessage> attempt)
    {
        try
        {
            (await attempt.ConfigureAwait(false)).Dispose();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Cancelled or failed after the call was answered: nothing is waiting for it.
        }
    }
}
