using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
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

        // One breaker and one budget per service, shared by the handlers that IHttpClientFactory creates over time.
        builder.Services.AddKeyedSingleton(serviceName, (services, _) =>
        {
            var schedulingDelay = services.GetRequiredService<SchedulingDelay>();
            var breaker = new HttpCircuitBreakerStrategyOptions();
            ConfigureBreaker(breaker, options, attemptTimeout, schedulingDelay);
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HedgingHandler).FullName!);
            // No hedge while this process is starved of CPU: the first attempt is then slow because of the app, not the
            // dependency, and a hedge would add work exactly where there is no room for it.
            return new HedgedCalls(
                HedgedCalls.AttemptPipeline(serviceName, breaker, attemptTimeout, logger),
                options.Timeout,
                options.HedgingDelay,
                new HedgeBudget(options.HedgeBudgetRatio, options.HedgeBudgetBurst),
                () => !schedulingDelay.IsLateFor(attemptTimeout));
        });
        builder.Services.AddHttpClient<TClient>(http =>
            {
                http.BaseAddress = options.BaseUrl;
                // The hedging handler bounds the whole call; HttpClient's own 100 s timeout would only add a timer per call
                // (the library's standard hedging handler turns it off for the same reason).
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .UseSocketsHttpHandler(ForServiceCalls)
            .AddHttpMessageHandler(services => new HedgingHandler(services.GetRequiredKeyedService<HedgedCalls>(serviceName)));
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
            .UseSocketsHttpHandler(ForServiceCalls)
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
    /// The services set no cookies and none should travel between calls (with cookies on, every request looks up the
    /// handler's cookie container for its URL), and their APIs do not redirect (a redirect would be an error to see,
    /// not to follow; following them costs a handler layer on every call).
    /// </summary>
    private static void ForServiceCalls(SocketsHttpHandler handler, IServiceProvider services)
    {
        handler.UseCookies = false;
        handler.AllowAutoRedirect = false;
    }

    private static void ConfigureBreaker(HttpCircuitBreakerStrategyOptions breaker, ServiceOptions options, TimeSpan attemptTimeout, SchedulingDelay schedulingDelay)
    {
        // A timeout while this process runs its work late says little about the dependency: it may have answered in
        // time and only the continuation waited. Such timeouts still fail the call, but do not open the circuit.
        breaker.ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
        {
            { Exception: TimeoutRejectedException } => !schedulingDelay.IsLateFor(attemptTimeout),
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
