using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;

namespace Storefront.Api.ExternalServices;

/// <summary>
/// The one place that decides how the app talks to external services: typed clients from
/// IHttpClientFactory, each with its own circuit breaker, a hard timeout per call, hedging for
/// idempotent reads (it cuts tail latency) and bounded, jittered retries for writes.
/// </summary>
public static class ExternalServiceExtensions
{
    private static readonly TimeSpan BackgroundCallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Reserving is on an order's request path; committing and releasing are not, but are as quick.</summary>
    private static readonly TimeSpan ReservationCallTimeout = TimeSpan.FromSeconds(2);

    public static IHostApplicationBuilder AddExternalServices(this IHostApplicationBuilder builder)
    {
        AddHedgedClient<InventoryClient>(builder, InventoryClient.ServiceName);
        AddHedgedClient<ReviewsClient>(builder, ReviewsClient.ServiceName);
        // Reservations go to the inventory service too, as writes: retried (the order id makes them idempotent), not hedged.
        AddRetryingClient<ReservationsClient>(builder, InventoryClient.ServiceName, ReservationCallTimeout);
        // FX is read once per cache period, so a hedge would only add load: one bounded retry instead.
        AddRetryingClient<FxClient>(builder, FxClient.ServiceName);
        // Off the request path (queue functions): more time per call; idempotency keys make retries safe.
        AddRetryingClient<PaymentsClient>(builder, PaymentsClient.ServiceName, BackgroundCallTimeout);
        AddRetryingClient<ShippingClient>(builder, ShippingClient.ServiceName, BackgroundCallTimeout);
        AddRetryingClient<NotificationsClient>(builder, NotificationsClient.ServiceName, BackgroundCallTimeout);
        builder.Services.AddSingleton<SchedulingDelay>();
        builder.Services.AddHybridCache();
        builder.Services.AddSingleton<FxRates>();
        return builder;
    }

    /// <summary>
    /// Idempotent reads on the request path: a hedged second attempt when the first is slow or fails, within a
    /// budget of hedges per primary call; an attempt times out before the call's total, so the circuit breaker
    /// counts a slow or hanging dependency as failing.
    /// </summary>
    private static void AddHedgedClient<TClient>(IHostApplicationBuilder builder, string serviceName)
        where TClient : class
    {
        var options = Bind(builder, serviceName);
        var attemptTimeout = options.AttemptTimeout ?? (options.Timeout - options.HedgingDelay) * 0.9;
        if (attemptTimeout <= TimeSpan.Zero || attemptTimeout + options.HedgingDelay >= options.Timeout)
        {
            throw new InvalidOperationException(
                $"Services:{serviceName}: AttemptTimeout ({attemptTimeout}) plus HedgingDelay ({options.HedgingDelay}) must be less than Timeout ({options.Timeout}).");
        }

        var budget = new HedgeBudget(options.HedgeBudgetRatio, options.HedgeBudgetBurst);
        var client = builder.Services.AddHttpClient<TClient>(http => http.BaseAddress = options.BaseUrl)
            .AddHttpMessageHandler(() => new HedgeBudgetHandler(budget));
        client.AddStandardHedgingHandler()
            .Configure((hedging, services) =>
            {
                hedging.TotalRequestTimeout.Timeout = options.Timeout;
                hedging.Hedging.MaxHedgedAttempts = 1;
                hedging.Hedging.Delay = options.HedgingDelay;
                hedging.Hedging.ShouldHandle = args => ValueTask.FromResult(ShouldHedge(args.Outcome));
                hedging.Endpoint.Timeout.Timeout = attemptTimeout;
                ConfigureBreaker(hedging.Endpoint.CircuitBreaker, options, attemptTimeout, services.GetRequiredService<SchedulingDelay>());
            });
        // The library sets the action that sends a hedge in its own post-configuration; this one runs after it. No hedge
        // while this process is starved of CPU: the first attempt is then slow because of the app, not the dependency,
        // and a hedge would add work exactly where there is no room for it.
        var starved = attemptTimeout / 4;
        builder.Services.AddOptions<HttpStandardHedgingResilienceOptions>(client.Name).PostConfigure<SchedulingDelay>((hedging, schedulingDelay) =>
        {
            var sendHedge = hedging.Hedging.ActionGenerator;
            hedging.Hedging.ActionGenerator = args => schedulingDelay.RecentAverage < starved && budget.TryTakeExtraAttempt() ? sendHedge(args) : null;
        });
    }

    /// <summary>Calls that may be repeated but should not be doubled: jittered retries inside the call's timeout, within a budget.</summary>
    private static void AddRetryingClient<TClient>(IHostApplicationBuilder builder, string serviceName, TimeSpan? defaultTimeout = null)
        where TClient : class
    {
        var options = Bind(builder, serviceName, defaultTimeout);
        var attemptTimeout = options.AttemptTimeout ?? options.Timeout / (options.MaxRetries + 1);
        if (attemptTimeout <= TimeSpan.Zero || attemptTimeout > options.Timeout)
        {
            throw new InvalidOperationException($"Services:{serviceName}: AttemptTimeout ({attemptTimeout}) must be positive and at most Timeout ({options.Timeout}).");
        }

        var budget = new HedgeBudget(options.HedgeBudgetRatio, options.HedgeBudgetBurst);
        builder.Services.AddHttpClient<TClient>(client => client.BaseAddress = options.BaseUrl)
            .AddHttpMessageHandler(() => new HedgeBudgetHandler(budget))
            .AddStandardResilienceHandler()
            .Configure((resilience, services) =>
            {
                resilience.TotalRequestTimeout.Timeout = options.Timeout;
                resilience.AttemptTimeout.Timeout = attemptTimeout;
                resilience.Retry.MaxRetryAttempts = options.MaxRetries;
                // Retries draw on the same kind of budget as hedges: a failing dependency gets few extra calls.
                resilience.Retry.ShouldHandle = args => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome) && budget.TryTakeExtraAttempt());
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(20);
                resilience.Retry.UseJitter = true;
                resilience.Retry.BackoffType = Polly.DelayBackoffType.Exponential;
                ConfigureBreaker(resilience.CircuitBreaker, options, attemptTimeout, services.GetRequiredService<SchedulingDelay>());
            });
    }

    /// <summary>
    /// A hedge answers a slow or failed attempt, not a refused one: a 429 asks for less load, and an open circuit or a
    /// full concurrency limit would refuse the hedge too. (A 503 is hedged: a dependency's instance that is briefly
    /// unavailable is the case hedging is for, and the budget bounds it.)
    /// </summary>
    private static bool ShouldHedge(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: BrokenCircuitException or RateLimiterRejectedException } => false,
        { Result.StatusCode: HttpStatusCode.TooManyRequests } => false,
        _ => HttpClientHedgingResiliencePredicates.IsTransient(outcome),
    };

    private static void ConfigureBreaker(HttpCircuitBreakerStrategyOptions breaker, ServiceOptions options, TimeSpan attemptTimeout, SchedulingDelay schedulingDelay)
    {
        // A timeout while this process runs its work late says little about the dependency: it may have answered in
        // time and only the continuation waited. Such timeouts still fail the call, but do not open the circuit.
        var starved = attemptTimeout / 4;
        breaker.ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
        {
            { Exception: TimeoutRejectedException } => schedulingDelay.RecentAverage < starved,
            _ => HttpClientResiliencePredicates.IsTransient(args.Outcome),
        });
        breaker.FailureRatio = options.BreakerFailureRatio;
        breaker.MinimumThroughput = options.BreakerMinimumThroughput;
        // The window must see at least two whole attempts to judge them (the library validates this).
        var minimumWindow = attemptTimeout * 2;
        breaker.SamplingDuration = options.BreakerSamplingDuration > minimumWindow ? options.BreakerSamplingDuration : minimumWindow;
        breaker.BreakDuration = options.BreakerBreakDuration;
    }

    private static ServiceOptions Bind(IHostApplicationBuilder builder, string serviceName, TimeSpan? defaultTimeout = null)
    {
        var section = builder.Configuration.GetSection($"Services:{serviceName}");
        var options = new ServiceOptions();
        if (defaultTimeout is { } timeout)
        {
            options.Timeout = timeout;
        }

        section.Bind(options);
        if (options.BaseUrl is null || !options.BaseUrl.IsAbsoluteUri)
        {
            throw new InvalidOperationException($"Configuration 'Services:{serviceName}:BaseUrl' (app setting Services__{serviceName}__BaseUrl) must be an absolute URL.");
        }

        return options;
    }
}
