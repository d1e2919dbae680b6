using Microsoft.AspNetCore.Http.Json;

namespace Storefront.ServiceSimulator;

/// <summary>Builds the simulator. Tests start it in-process with <c>--urls http://127.0.0.1:0</c> and read the bound address.</summary>
public static class SimulatorApp
{
    /// <summary>The address used when neither <c>--urls</c>, <c>ASPNETCORE_URLS</c> nor <c>ASPNETCORE_HTTP_PORTS</c> is set.</summary>
    public const string DefaultUrl = "http://127.0.0.1:7081";

    /// <summary>Largest request body accepted (bounds what the idempotency stores and message log keep per entry).</summary>
    public const long MaxRequestBodyBytes = 256 * 1024;

    /// <param name="args">Command line: <c>--urls</c> and any <c>--Simulator:...</c> setting (see README.md).</param>
    /// <param name="configure">Optional last word on the builder (extra configuration or services), for tests.</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"])
            && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.Configure<JsonOptions>(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, SimulatorJsonContext.Default));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(provider => SimulatorOptions.FromConfiguration(provider.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<SimulatorClock>();
        builder.Services.AddSingleton(provider => new ServiceSettingsStore(provider.GetRequiredService<SimulatorOptions>().Services));
        builder.Services.AddSingleton(provider =>
            new RingLog<CallLogEntry>(provider.GetRequiredService<SimulatorOptions>().CallLogCapacity, entry => entry.Sequence));
        builder.Services.AddSingleton(provider =>
            new RingLog<RecordedMessage>(provider.GetRequiredService<SimulatorOptions>().MessageLogCapacity, message => message.Sequence));
        builder.Services.AddSingleton(provider =>
            new IdempotencyStore<PaymentRequest, PaymentResponse>(provider.GetRequiredService<SimulatorOptions>().IdempotencyCapacity));
        builder.Services.AddSingleton<InventoryLedger>();
        builder.Services.AddSingleton(provider => new PaymentLedger(provider.GetRequiredService<SimulatorOptions>().IdempotencyCapacity));
        builder.Services.AddSingleton(provider =>
            new IdempotencyStore<ShipmentRequest, ShipmentResponse>(provider.GetRequiredService<SimulatorOptions>().IdempotencyCapacity));
        builder.Services.AddSingleton<Simulation>();
        builder.Services.AddSingleton<ServiceEndpoints>();
        builder.Services.AddSingleton<AdminEndpoints>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Services.GetRequiredService<ServiceEndpoints>().Map(app);
        app.Services.GetRequiredService<AdminEndpoints>().Map(app);
        return app;
    }
}
