using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Storefront.Api.Infrastructure;

public static class TelemetryExtensions
{
    /// <summary>Application Insights to export to (set in Azure by the template); telemetry is on when it is set.</summary>
    public const string ApplicationInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>"Authorization=AAD;ClientId=&lt;managed identity client id&gt;": the identity that sends telemetry.</summary>
    public const string ApplicationInsightsAuthenticationString = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Set to <c>console</c> to print traces, metrics and logs locally (off by default).</summary>
    public const string ExporterSetting = "OTEL_EXPORTER";

    /// <summary>The standard OTLP endpoint setting; locally the run command's AppHost sets it to its dashboard.</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// OpenTelemetry in the worker: function invocations, outgoing HTTP calls and Npgsql commands as traces, HTTP
    /// client and Npgsql metrics, logs. Exported to Application Insights (Entra-authenticated) when its connection
    /// string is set; otherwise over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the local dashboard); to the
    /// console when <c>OTEL_EXPORTER=console</c>; with none of them, not registered at all.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        // Logs reach the host (and from there telemetry) whether or not an exporter is set up here.
        builder.KeepFunctionKeysOutOfLogs();
        var connectionString = builder.Configuration[ApplicationInsightsConnectionString];
        var toAzureMonitor = !string.IsNullOrWhiteSpace(connectionString);
        var toConsole = string.Equals(builder.Configuration[ExporterSetting], "console", StringComparison.OrdinalIgnoreCase);
        // Never next to Azure Monitor: in Azure, telemetry goes where the template says, whatever else is set.
        var toOtlp = !toAzureMonitor && !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointSetting]);
        if (!toAzureMonitor && !toOtlp && !toConsole)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithTracing(tracing => tracing.AddHttpClientInstrumentation().AddNpgsql())
            .WithMetrics(metrics => metrics.AddHttpClientInstrumentation().AddMeter("Npgsql"));

        if (toAzureMonitor)
        {
            var clientId = ClientIdFrom(builder.Configuration[ApplicationInsightsAuthenticationString]);
            telemetry.UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = connectionString;
                // Application Insights has local auth disabled: ingestion needs an Entra token of the identity.
                if (clientId is not null)
                {
                    options.Credential = AzureCredentials.Create(clientId);
                }
            });
        }

        if (toOtlp)
        {
            // Endpoint, protocol, headers and service name from the standard OTEL_* settings.
            telemetry.UseOtlpExporter();
        }

        if (toConsole)
        {
            telemetry
                .WithTracing(tracing => tracing.AddConsoleExporter())
                .WithMetrics(metrics => metrics.AddConsoleExporter())
                .WithLogging(logging => logging.AddConsoleExporter());
        }

        return builder;
    }

    /// <summary>The ClientId of an "Authorization=AAD;ClientId=..." string; null when it names none.</summary>
    public static string? ClientIdFrom(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        foreach (var part in authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pair.Length == 2 && pair[0].Equals("ClientId", StringComparison.OrdinalIgnoreCase) && pair[1].Length > 0)
            {
                return pair[1];
            }
        }

        return null;
    }
}
