using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Storefront.FunctionsHost.Http;

/// <summary>
/// The HTTP functions' routes: checked at start as the real host's ScriptHost.ValidateFunction does, tried in
/// order of function name, and matched so that a request no function takes (unknown path, or a method the
/// route does not list, HEAD on a GET route included) is a bodyless 404, never a 405.
/// </summary>
internal static class FunctionRoutes
{
    public static string Template(FunctionDescriptor function, HostJson hostJson)
    {
        var route = RouteOf(function);
        return string.IsNullOrEmpty(hostJson.RoutePrefix) ? route : $"{hostJson.RoutePrefix}/{route}";
    }

    /// <summary>
    /// Throws with the real host's messages for a route in its reserved space (admin, runtime) and for two
    /// functions whose routes are equal (ignoring case and slashes) with a method in common.
    /// </summary>
    public static void Validate(IReadOnlyList<FunctionDescriptor> functions)
    {
        var seen = new List<FunctionDescriptor>();
        foreach (var function in functions.Where(f => f.Kind == TriggerKind.Http))
        {
            var route = RouteOf(function).Trim('/').ToLowerInvariant();
            if (route.StartsWith("admin", StringComparison.Ordinal) || route.StartsWith("runtime", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Function '{function.Name}': The specified route conflicts with one or more built in routes.");
            }

            if (seen.FirstOrDefault(other => Conflict(function, other)) is { } conflicting)
            {
                throw new InvalidOperationException($"Function '{function.Name}': The route specified conflicts with the route defined by function '{conflicting.Name}'.");
            }

            seen.Add(function);
        }
    }

    public static void Map(WebApplication app, IEnumerable<FunctionDescriptor> functions, HostJson hostJson, AppSettings settings, HttpFunctionInvoker invoker)
    {
        app.UseRouting();
        // Endpoint routing answers a method mismatch with its own 405 endpoint; the real host's route
        // constraint simply does not match, so the request falls through to 404.
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is { } endpoint && endpoint.Metadata.GetMetadata<HostEndpoint>() is null)
            {
                context.SetEndpoint(null);
                HostAnswers.Write(context, StatusCodes.Status404NotFound);
                return Task.CompletedTask;
            }

            return next(context);
        });

        // The real host tries the routes in order of function name and takes the first that matches, with no ASP.NET
        // precedence (azure-functions-host#9876): "items/{id}" of a function named first wins over "items/recent".
        // An endpoint's order outranks precedence, so each gets its function's rank in that order.
        var ranked = functions.Where(f => f.Kind == TriggerKind.Http).OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).ToArray();
        for (var rank = 0; rank < ranked.Length; rank++)
        {
            var function = ranked[rank];
            var pattern = Template(function, hostJson);
            var disabled = settings.IsFunctionDisabled(function.Name);
            var handler = (RequestDelegate)(context => invoker.InvokeAsync(context, function, disabled));
            var endpoint = function.HttpMethods.Count == 0 ? app.Map(pattern, handler) : app.MapMethods(pattern, function.HttpMethods, handler);
            endpoint.WithDisplayName(function.Name).WithMetadata(HostEndpoint.Instance).WithOrder(rank);
        }
    }

    /// <summary>Marks the endpoints the host mapped itself (functions and admin API).</summary>
    public sealed class HostEndpoint
    {
        public static readonly HostEndpoint Instance = new();

        private HostEndpoint()
        {
        }
    }

    private static string RouteOf(FunctionDescriptor function) => function.Property("route") is { Length: > 0 } route ? route : function.Name;

    private static bool Conflict(FunctionDescriptor function, FunctionDescriptor other)
    {
        if (!string.Equals(RouteOf(function).Trim('/'), RouteOf(other).Trim('/'), StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return function.HttpMethods.Count == 0 || other.HttpMethods.Count == 0 || function.HttpMethods.Intersect(other.HttpMethods).Any();
    }
}
