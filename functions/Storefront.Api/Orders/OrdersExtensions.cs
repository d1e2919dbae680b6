using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Orders;

public static class OrdersExtensions
{
    public static IHostApplicationBuilder AddOrdersFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OrdersOptions>()
            .Bind(builder.Configuration.GetSection(OrdersOptions.Section))
            .Validate(
                o => o.ReservationTtl >= TimeSpan.FromMinutes(1) && o.ReservationTtl <= TimeSpan.FromDays(1)
                     && o.ReleaseRetryDelay >= TimeSpan.FromSeconds(5) && o.ReleaseRetryDelay < o.ReservationTtl,
                "Orders: ReservationTtl 1 minute to 1 day, ReleaseRetryDelay at least 5 s and less than ReservationTtl.")
            .ValidateOnStart();
        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddSingleton<OrderPlacement>();
        builder.Services.AddSingleton<ReservationReleases>();
        builder.Services.AddSingleton<ISweepStep>(services => services.GetRequiredService<ReservationReleases>());
        builder.Services.AddSingleton<OrderProcessor>();
        builder.Services.AddSingleton(new StrandedWorkSource("orders", OrderStore.QueueName, [OrderStatus.Accepted, OrderStatus.Processing]));
        return builder;
    }
}
