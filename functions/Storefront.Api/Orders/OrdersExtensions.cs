using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Orders;

public static class OrdersExtensions
{
    public static IHostApplicationBuilder AddOrdersFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OrdersOptions>()
            .Bind(builder.Configuration.GetSection(OrdersOptions.Section))
            .Validate(
                o => o.ProcessingLease > TimeSpan.Zero && o.OutboxGracePeriod >= TimeSpan.Zero && o.StockCheckConcurrency is >= 1 and <= 50,
                "Orders: ProcessingLease must be positive, OutboxGracePeriod not negative, StockCheckConcurrency 1..50.")
            .ValidateOnStart();
        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddSingleton<OrderPlacement>();
        builder.Services.AddSingleton<OrderProcessor>();
        return builder;
    }
}
