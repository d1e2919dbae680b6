using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Storefront.FunctionsHost.Http;
using Storefront.FunctionsHost.Triggers;
using Storefront.FunctionsHost.Worker;

namespace Storefront.FunctionsHost;

/// <summary>
/// A local Azure Functions host for a .NET isolated worker app: launches the worker, speaks the
/// host-worker gRPC protocol, serves the app's HTTP functions, polls its queues and runs its timers.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    private readonly FunctionsHostOptions _options;
    private readonly WebApplication _rpcServer;
    private readonly WorkerSupervisor _supervisor;
    private readonly WebApplication _httpServer;
    private readonly AdminEndpoints _admin;
    private readonly IReadOnlyList<QueueTriggerListener> _queueListeners;
    private readonly IReadOnlyList<TimerTriggerScheduler> _timers;
    private readonly ILogger _logger;
    private readonly HostJson _hostJson;
    private int _stopped;

    private FunctionsHost(
        FunctionsHostOptions options,
        AppSettings settings,
        HostJson hostJson,
        WebApplication rpcServer,
        WorkerSupervisor supervisor,
        WebApplication httpServer,
        AdminEndpoints admin,
        IReadOnlyList<QueueTriggerListener> queueListeners,
        IReadOnlyList<TimerTriggerScheduler> timers,
        ILogger logger)
    {
        _options = options;
        Settings = settings;
        _hostJson = hostJson;
        _rpcServer = rpcServer;
        _supervisor = supervisor;
        _httpServer = httpServer;
        _admin = admin;
        _queueListeners = queueListeners;
        _timers = timers;
        _logger = logger;
        BaseAddress = new Uri(httpServer.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri BaseAddress { get; }

    public AppSettings Settings { get; }

    public IReadOnlyList<FunctionDescriptor> Functions => _supervisor.Functions;

    public int? WorkerProcessId => _supervisor.WorkerProcessId;

    public int WorkerRestarts => _supervisor.Restarts;

    /// <summary>
    /// Invocations that ran past host.json's functionTimeout and whose worker has neither ended them nor been restarted
    /// yet (it is, once the grace period is over).
    /// </summary>
    public int InvocationsPastTimeout => _supervisor.InvocationsPastTimeout;

    public IEnumerable<string> PolledQueues => _queueListeners.Select(l => l.QueueName);

    public IEnumerable<string> ScheduledFunctions => _timers.Select(t => t.FunctionName);

    /// <summary>The public URL template of an HTTP function, route prefix included.</summary>
    public string RouteOf(FunctionDescriptor function) => FunctionRoutes.Template(function, _hostJson);

    public static async Task<FunctionsHost> StartAsync(FunctionsHostOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<FunctionsHost>();
        var settings = await AppSettings.LoadAsync(options, cancellationToken).ConfigureAwait(false);
        var hostJson = await HostJson.LoadAsync(options.AppDirectory, cancellationToken).ConfigureAwait(false);

        var registry = new WorkerRegistry();
        var rpcServer = BuildRpcServer(registry, loggerFactory);
        await rpcServer.StartAsync(cancellationToken).ConfigureAwait(false);
        var grpcUri = new Uri(rpcServer.Urls.First() + "/");

        var supervisor = new WorkerSupervisor(options, settings, hostJson, registry, loggerFactory);
        try
        {
            await supervisor.StartAsync(grpcUri, cancellationToken).ConfigureAwait(false);
            FunctionSupport.EnsureRunnable(supervisor.Functions, supervisor.WorkerServesHttp);
            FunctionRoutes.Validate(supervisor.Functions);
        }
        catch
        {
            await supervisor.DisposeAsync().ConfigureAwait(false);
            await rpcServer.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var httpServer = BuildHttpServer(options, settings, hostJson, supervisor, loggerFactory);
        var admin = httpServer.Services.GetRequiredService<AdminEndpoints>();
        try
        {
            await httpServer.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await supervisor.DisposeAsync().ConfigureAwait(false);
            await httpServer.DisposeAsync().ConfigureAwait(false);
            await rpcServer.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        foreach (var disabled in supervisor.Functions.Where(f => settings.IsFunctionDisabled(f.Name)))
        {
            logger.LogInformation("Function {Function} is disabled by its AzureWebJobs.{Function}.Disabled setting", disabled.Name, disabled.Name);
        }

        var enabled = supervisor.Functions.Where(f => !settings.IsFunctionDisabled(f.Name)).ToArray();
        var queueListeners = enabled.Where(f => f.Kind == TriggerKind.Queue)
            .Select(f => new QueueTriggerListener(f, settings, hostJson, supervisor, loggerFactory.CreateLogger($"Host.Queue.{f.Name}")))
            .ToArray();
        var timers = enabled.Where(f => f.Kind == TriggerKind.Timer)
            .Select(f => new TimerTriggerScheduler(f, settings, options.AppDirectory, supervisor, loggerFactory.CreateLogger($"Host.Timer.{f.Name}")))
            .ToArray();
        foreach (var listener in queueListeners)
        {
            listener.Start();
        }

        foreach (var timer in timers)
        {
            timer.Start();
        }

        var host = new FunctionsHost(options, settings, hostJson, rpcServer, supervisor, httpServer, admin, queueListeners, timers, logger);
        logger.LogInformation("Functions host listening on {BaseAddress}", host.BaseAddress);
        return host;
    }

    /// <summary>
    /// Stops the HTTP server and every trigger at once: running HTTP requests and on-demand (admin) invocations get the
    /// grace period, running queue and timer invocations are cancelled and get the grace period to answer; then the
    /// worker is terminated.
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        var grace = _options.ShutdownGracePeriod;
        using var httpStop = new CancellationTokenSource(grace);
        try
        {
            Task[] stopping =
            [
                _httpServer.StopAsync(httpStop.Token),
                _admin.DrainAsync(grace),
                .. _timers.Select(t => t.StopAsync(grace)),
                .. _queueListeners.Select(l => l.StopAsync(grace)),
            ];
            await Task.WhenAll(stopping).ConfigureAwait(false);
        }
        finally
        {
            await _supervisor.DisposeAsync().ConfigureAwait(false);
            foreach (var timer in _timers)
            {
                await timer.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var listener in _queueListeners)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }
        }

        await _rpcServer.StopAsync(CancellationToken.None).ConfigureAwait(false);
        _logger.LogInformation("Functions host stopped");
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _httpServer.DisposeAsync().ConfigureAwait(false);
        await _rpcServer.DisposeAsync().ConfigureAwait(false);
    }

    private static WebApplication BuildRpcServer(WorkerRegistry registry, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        UseLoggerFactory(builder, loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(registry);
        var app = builder.Build();
        app.MapGrpcService<FunctionRpcService>();
        return app;
    }

    private static WebApplication BuildHttpServer(FunctionsHostOptions options, AppSettings settings, HostJson hostJson, WorkerSupervisor supervisor, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        UseLoggerFactory(builder, loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodySize;
            kestrel.AddServerHeader = false;
            if (options.HttpPort == 0)
            {
                kestrel.Listen(IPAddress.Loopback, 0);
            }
            else
            {
                kestrel.ListenLocalhost(options.HttpPort);
            }
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(hostJson);
        builder.Services.AddSingleton(supervisor);
        builder.Services.AddSingleton<KeyAuthorization>();
        builder.Services.AddSingleton<HttpFunctionInvoker>();
        builder.Services.AddSingleton<AdminEndpoints>();
        builder.Services.AddHttpClient(HttpFunctionInvoker.WorkerClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                // Clients may send any UTF-8 in a header value; the worker's Kestrel reads it as UTF-8.
                RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
                ResponseHeaderEncodingSelector = (_, _) => Encoding.UTF8,
            })
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);

        var app = builder.Build();
        if (hostJson.HttpThrottles.Enabled)
        {
            var throttle = new HttpThrottle(
                hostJson.HttpThrottles,
                () => settings.AppValues.GetValueOrDefault(HttpThrottle.CountersSetting) ?? Environment.GetEnvironmentVariable(HttpThrottle.CountersSetting),
                loggerFactory.CreateLogger<HttpThrottle>());
            app.UseWhen(context => !context.Request.Path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase), branch => branch.Use(next => context => throttle.InvokeAsync(context, next)));
        }

        FunctionRoutes.Map(app, supervisor.Functions, hostJson, settings, app.Services.GetRequiredService<HttpFunctionInvoker>());
        app.Services.GetRequiredService<AdminEndpoints>().Map(app);
        return app;
    }

    private static void UseLoggerFactory(WebApplicationBuilder builder, ILoggerFactory loggerFactory)
    {
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new KeySafeLoggerFactory(loggerFactory));
    }

    /// <summary>
    /// ASP.NET Core's per-request lines ("Request starting GET /api/orders?code=...") carry the query string,
    /// where a function key may travel; the host never writes them (warnings and errors still pass).
    /// </summary>
    private sealed class KeySafeLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        private const string RequestLogCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

        public ILogger CreateLogger(string categoryName) =>
            categoryName.StartsWith(RequestLogCategory, StringComparison.Ordinal) ? new WarningsOnly(inner.CreateLogger(categoryName)) : inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        // The factory belongs to whoever passed it in.
        public void Dispose()
        {
        }

        private sealed class WarningsOnly(ILogger inner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => inner.BeginScope(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    inner.Log(logLevel, eventId, state, exception, formatter);
                }
            }
        }
    }
}
