using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;
using Storefront.FunctionsHost.Worker;

namespace Storefront.FunctionsHost.Http;

/// <summary>The real host's admin API subset: invoke a non-HTTP function on demand, and host status.</summary>
internal sealed class AdminEndpoints(WorkerSupervisor supervisor, KeyAuthorization keys, ILogger<AdminEndpoints> logger)
{
    private const int MaxInputBytes = 1024 * 1024;

    private readonly ConcurrentDictionary<Task, bool> _running = new();

    public void Map(WebApplication app)
    {
        app.MapPost("/admin/functions/{name}", InvokeAsync).WithMetadata(FunctionRoutes.HostEndpoint.Instance);
        app.MapGet("/admin/host/status", (HttpRequest request) => keys.IsAuthorized(request, AuthLevel.Admin)
            ? Results.Ok(new { state = "Running", processId = supervisor.WorkerProcessId, restarts = supervisor.Restarts })
            : HostAnswers.Status(StatusCodes.Status401Unauthorized)).WithMetadata(FunctionRoutes.HostEndpoint.Instance);
    }

    /// <summary>Waits for on-demand invocations still running, up to the grace period.</summary>
    public async Task DrainAsync(TimeSpan gracePeriod)
    {
        try
        {
            await Task.WhenAll(_running.Keys).WaitAsync(gracePeriod).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("On-demand invocations still running at shutdown");
        }
    }

    private async Task<IResult> InvokeAsync(string name, HttpRequest request)
    {
        if (!keys.IsAuthorized(request, AuthLevel.Admin))
        {
            return HostAnswers.Status(StatusCodes.Status401Unauthorized);
        }

        var function = supervisor.Functions.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
        if (function is null)
        {
            return HostAnswers.Status(StatusCodes.Status404NotFound);
        }

        if (function.Kind == TriggerKind.Http)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "HTTP functions are invoked through their own route.");
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = MaxInputBytes;
        }

        string input;
        try
        {
            var body = request.ContentLength == 0
                ? null
                : await JsonSerializer.DeserializeAsync<AdminInvocation>(request.Body, JsonSerializerOptions.Web, request.HttpContext.RequestAborted).ConfigureAwait(false);
            input = body?.Input ?? string.Empty;
        }
        catch (JsonException)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The body must be JSON: {\"input\": \"...\"}.");
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The invocation input is too large.");
        }

        var invocation = function.Kind switch
        {
            TriggerKind.Queue => Invocations.ForQueueMessage(function, new QueueMessageFacts(
                Guid.NewGuid().ToString(), string.Empty, input, 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(7), DateTimeOffset.UtcNow)),
            TriggerKind.Timer => Invocations.ForTimer(function, null, DateTimeOffset.UtcNow, isPastDue: false),
            _ => Invocations.Create(function, Invocations.Text(input)),
        };

        var running = RunAsync(function, invocation);
        _running.TryAdd(running, true);
        _ = running.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Results.Accepted();
    }

    private async Task RunAsync(FunctionDescriptor function, InvocationRequest invocation)
    {
        try
        {
            var worker = await supervisor.GetWorkerAsync(CancellationToken.None).ConfigureAwait(false);
            var response = await worker.InvokeAsync(invocation, CancellationToken.None).ConfigureAwait(false);
            if (response.Result?.Status != StatusResult.Types.Status.Success)
            {
                logger.LogWarning("On-demand invocation of {Function} failed: {Error}", function.Name, response.Result?.Exception?.Message);
            }
        }
        catch (WorkerUnavailableException exception)
        {
            logger.LogWarning("On-demand invocation of {Function} was lost: {Error}", function.Name, exception.Message);
        }
    }

    private sealed record AdminInvocation(string? Input);
}
