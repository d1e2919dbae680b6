using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;

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
        builder.Services.AddHybridCache();
        builder.Services.AddSingleton<FxRates>();
        return builder;
    }

    /// <summary>Idempotent reads on the request path: a hedged second attempt when the first is slow or fails.</summary>
    private static void AddHedgedClient<TClient>(IHostApplicationBuilder builder, string serviceName)
        where TClient : class
    {
        var options = Bind(builder, serviceName);
        builder.Services.AddHttpClient<TClient>(client => client.BaseAddress = options.BaseUrl)
            .AddStandardHedgingHandler()
            .Configure(hedging =>
            {
                hedging.TotalRequestTimeout.Timeout = options.Timeout;
                hedging.Hedging.MaxHedgedAttempts = 1;
                hedging.Hedging.Delay = options.HedgingDelay;
                hedging.Endpoint.Timeout.Timeout = options.Timeout;
                ConfigureBreaker(hedging.Endpoint.CircuitBreaker, options, options.Timeout);
            });
    }

    /// <summary>Calls that may be repeated but should not be doubled: jittered retries inside the call's timeout.</summary>
    private static void AddRetryingClient<TClient>(IHostApplicationBuilder builder, string serviceName, TimeSpan? defaultTimeout = null)
        where TClient : class
    {
        var options = Bind(builder, serviceName, defaultTimeout);
        builder.Services.AddHttpClient<TClient>(client => client.BaseAddress = options.BaseUrl)
            .AddStandardResilienceHandler()
            .Configure(resilience =>
            {
                resilience.TotalRequestTimeout.Timeout = options.Timeout;
                resilience.AttemptTimeout.Timeout = options.Timeout;
                resilience.Retry.MaxRetryAttempts = options.MaxRetries;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(20);
                resilience.Retry.UseJitter = true;
                resilience.Retry.BackoffType = Polly.DelayBackoffType.Exponential;
                ConfigureBreaker(resilience.CircuitBreaker, options, options.Timeout);
            });
    }

    private static void ConfigureBreaker(HttpCircuitBreakerStrategyOptions breaker, ServiceOptions options, TimeSpan attemptTimeout)
    {
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
