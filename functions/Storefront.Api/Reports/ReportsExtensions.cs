using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.Api.Reports;

public static class ReportsExtensions
{
    public static IHostApplicationBuilder AddReportsFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReportsOptions>()
            .Bind(builder.Configuration.GetSection(ReportsOptions.Section))
            .Validate(o => o.MaxConcurrentGenerations is >= 1 and <= 64, "Reports: MaxConcurrentGenerations 1..64.")
            .Validate(o => o.MaxWaitForTurn > TimeSpan.Zero && o.MaxWaitForTurn <= TimeSpan.FromMinutes(25), "Reports: MaxWaitForTurn over 0 and at most 25 minutes (inside functionTimeout's default 30).")
            .ValidateOnStart();
        builder.Services.AddSingleton<ReportStore>();
        builder.Services.AddSingleton<ReportRequests>();
        builder.Services.AddSingleton<ReportGenerator>();
        builder.Services.AddSingleton<ReportProcessor>();
        builder.Services.AddSingleton(new StrandedWorkSource("reports", ReportStore.QueueName, [ReportStatus.Queued, ReportStatus.Running]));
        return builder;
    }
}
