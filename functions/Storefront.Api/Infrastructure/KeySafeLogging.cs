using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// The Functions host forwards every request to the worker as it came, the function key included (in the
/// <c>code</c> query parameter or the <c>x-functions-key</c> header). ASP.NET Core's per-request lines in the worker
/// ("Request starting GET .../api/orders/...?code=...", and their structured QueryString attribute) would carry the
/// key into the forwarded logs, Application Insights and any OpenTelemetry exporter, so the worker never writes
/// them; warnings and errors of that category still pass. No other category logs request URLs or headers.
/// </summary>
public static class KeySafeLogging
{
    /// <summary>The category of the per-request "Request starting"/"Request finished" lines.</summary>
    public const string RequestLineCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static IHostApplicationBuilder KeepFunctionKeysOutOfLogs(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddFilter(RequestLineCategory, LogLevel.Warning);
        return builder;
    }
}
