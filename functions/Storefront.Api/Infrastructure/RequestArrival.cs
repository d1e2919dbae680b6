using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Storefront.Api.Infrastructure;

/// <summary>
/// When a request reached the worker's web server, so that a function can tell how long it waited before it started:
/// behind a busy host the request is forwarded at once, but the function starts only when the invocation has come
/// over gRPC and the worker has a thread for it. Stamped by the first middleware of the worker's pipeline, from the
/// moment the worker has answered its first request: the requests before that wait while the Functions pipeline is
/// compiled, which says nothing about load, so they count as not having waited.
/// </summary>
public static class RequestArrival
{
    private static readonly object Key = new();
    private static volatile bool s_answeredOnce;

    /// <summary>Time since the request arrived; zero when it was not stamped (not through the worker's pipeline, or before its first answer).</summary>
    public static TimeSpan Waited(HttpContext context) =>
        context.Items.TryGetValue(Key, out var stamp) && stamp is long arrivedAt ? Stopwatch.GetElapsedTime(arrivedAt) : TimeSpan.Zero;

    /// <summary>Puts the stamping middleware in front of everything the Functions integration adds.</summary>
    internal sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (s_answeredOnce)
                {
                    context.Items[Key] = Stopwatch.GetTimestamp();
                }
                else
                {
                    context.Response.OnCompleted(static () =>
                    {
                        s_answeredOnce = true;
                        return Task.CompletedTask;
                    });
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
