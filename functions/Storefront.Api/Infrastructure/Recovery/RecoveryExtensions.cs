using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Infrastructure.Recovery;

public static class RecoveryExtensions
{
    /// <summary>Retries, leases, the outbox and the sweep shared by every feature with queued work.</summary>
    public static IHostApplicationBuilder AddRecovery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RecoveryOptions>()
            .Bind(builder.Configuration.GetSection(RecoveryOptions.Section))
            .Validate(
                o => o.IsValid(),
                "Recovery: RetryBudget and FirstBackoff positive, MaxBackoff between FirstBackoff and 1 hour, Lease at least 3 s, StrandedAfter and OutboxDispatchTimeout positive, OutboxGracePeriod not negative, MaxPoisonRequeues 0..1000.")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<QueueSender>();
        builder.Services.AddSingleton<OutboxDispatcher>();
        builder.Services.AddSingleton<QueuedWorkRunner>();
        builder.Services.AddSingleton<StrandedWorkSweep>();
        return builder;
    }
}
