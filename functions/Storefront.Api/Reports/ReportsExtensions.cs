using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Reports;

public static class ReportsExtensions
{
    public static IHostApplicationBuilder AddReportsFeature(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ReportStore>();
        builder.Services.AddSingleton<ReportGenerator>();
        return builder;
    }
}
