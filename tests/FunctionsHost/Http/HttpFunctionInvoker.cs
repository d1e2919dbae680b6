using System.Buffers;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;
using Storefront.FunctionsHost.Worker;

namespace Storefront.FunctionsHost.Http;

/// <summary>
/// Runs one HTTP-triggered invocation with the ASP.NET Core integration: the client's request is
/// forwarded to the worker's own Kestrel, tagged with the invocation id, while the InvocationRequest
/// goes over gRPC. The worker's response is relayed; the InvocationResponse decides success.
/// </summary>
internal sealed class HttpFunctionInvoker(
    WorkerSupervisor supervisor,
    KeyAuthorization keys,
    IHttpClientFactory httpClientFactory,
    FunctionsHostOptions options,
    HostJson hostJson,
    ILogger<HttpFunctionInvoker> logger)
{
    public const string WorkerClientName = "worker";

    private static readonly HashSet<string> HopByHopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
        KeyAuthorization.HeaderName,
    };

    public async Task InvokeAsync(HttpContext context, FunctionDescriptor function)
    {
        if (!keys.IsAuthorized(context.Request, function.AuthLevel))
        {
            await Problems.Unauthorized().ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            bodyLimit.MaxRequestBodySize = options.MaxRequestBodySize;
        }

        WorkerConnection worker;
        try
        {
            worker = await supervisor.GetWorkerAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (WorkerUnavailableException)
        {
            context.Response.Headers.RetryAfter = "1";
            await Problems.WorkerUnavailable().ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var request = Invocations.Create(function, new TypedData { Http = new RpcHttp() });
        AddBindingData(context, request);

        using var invocationCancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (hostJson.FunctionTimeout is { } timeout)
        {
            invocationCancellation.CancelAfter(timeout);
        }

        var invocation = worker.InvokeAsync(request, invocationCancellation.Token);
        using var forwardCancellation = CancellationTokenSource.CreateLinkedTokenSource(invocationCancellation.Token);
        using var forwarded = CreateForwardedRequest(context, worker, request.InvocationId);
        var forwarding = httpClientFactory.CreateClient(WorkerClientName)
            .SendAsync(forwarded, HttpCompletionOption.ResponseHeadersRead, forwardCancellation.Token);

        // A function that fails before writing leaves the worker's Kestrel waiting; don't wait with it.
        if (await Task.WhenAny(invocation, forwarding).ConfigureAwait(false) == invocation && !Succeeded(invocation))
        {
            await forwardCancellation.CancelAsync().ConfigureAwait(false);
            await ObserveAsync(forwarding).ConfigureAwait(false);
            await RespondToFailureAsync(context, invocation, request.InvocationId).ConfigureAwait(false);
            return;
        }

        HttpResponseMessage response;
        try
        {
            response = await forwarding.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or IOException)
        {
            await invocationCancellation.CancelAsync().ConfigureAwait(false);
            if (context.RequestAborted.IsCancellationRequested)
            {
                await ObserveAsync(invocation).ConfigureAwait(false);
                return;
            }

            logger.LogWarning(exception, "Forwarding invocation {InvocationId} to the worker failed", request.InvocationId);
            await ObserveAsync(invocation).ConfigureAwait(false);
            await RespondToFailureAsync(context, invocation, request.InvocationId).ConfigureAwait(false);
            return;
        }

        using (response)
        {
            await RelayAsync(context, response, invocation, request.InvocationId).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Holds back up to <see cref="FunctionsHostOptions.ResponseBufferLimit"/> bytes until the invocation's
    /// result is known, so small responses of failed functions become 500s; longer bodies stream, and a
    /// failure after the headers went out can only abort the connection.
    /// </summary>
    private async Task RelayAsync(HttpContext context, HttpResponseMessage response, Task<InvocationResponse> invocation, string invocationId)
    {
        var aborted = context.RequestAborted;
        var buffer = ArrayPool<byte>.Shared.Rent(options.ResponseBufferLimit);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
            var buffered = 0;
            var complete = false;
            while (buffered < buffer.Length)
            {
                var read = await body.ReadAsync(buffer.AsMemory(buffered), aborted).ConfigureAwait(false);
                if (read == 0)
                {
                    complete = true;
                    break;
                }

                buffered += read;
            }

            if (complete)
            {
                await ObserveAsync(invocation).ConfigureAwait(false);
                if (!Succeeded(invocation))
                {
                    await RespondToFailureAsync(context, invocation, invocationId).ConfigureAwait(false);
                    return;
                }
            }

            CopyResponseHeaders(context, response);
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, buffered), aborted).ConfigureAwait(false);
            if (!complete)
            {
                await body.CopyToAsync(context.Response.Body, aborted).ConfigureAwait(false);
                await ObserveAsync(invocation).ConfigureAwait(false);
                if (!Succeeded(invocation))
                {
                    logger.LogWarning("Invocation {InvocationId} failed after its response started; aborting the connection", invocationId);
                    context.Abort();
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
        {
            if (!aborted.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Relaying the response of invocation {InvocationId} failed", invocationId);
                if (!context.Response.HasStarted)
                {
                    await Problems.BadGateway(invocationId).ExecuteAsync(context).ConfigureAwait(false);
                }
                else
                {
                    context.Abort();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task RespondToFailureAsync(HttpContext context, Task<InvocationResponse> invocation, string invocationId)
    {
        if (context.RequestAborted.IsCancellationRequested || context.Response.HasStarted)
        {
            return;
        }

        if (invocation.Exception?.InnerException is WorkerUnavailableException)
        {
            logger.LogWarning("Invocation {InvocationId} was lost with its worker", invocationId);
        }
        else if (invocation.IsCompletedSuccessfully)
        {
            logger.LogWarning("Invocation {InvocationId} failed: {Error}", invocationId, invocation.Result.Result?.Exception?.Message);
        }

        await Problems.FunctionFailed(invocationId).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static void AddBindingData(HttpContext context, InvocationRequest request)
    {
        // Query first, route values second: a route parameter wins over a query parameter of the same name.
        foreach (var (key, value) in context.Request.Query)
        {
            if (!string.Equals(key, KeyAuthorization.QueryName, StringComparison.OrdinalIgnoreCase))
            {
                request.TriggerMetadata[key] = Invocations.Text(value.ToString());
            }
        }

        foreach (var (key, value) in context.GetRouteData().Values)
        {
            if (value is not null)
            {
                request.TriggerMetadata[key] = Invocations.Text(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty);
            }
        }
    }

    private static HttpRequestMessage CreateForwardedRequest(HttpContext context, WorkerConnection worker, string invocationId)
    {
        var incoming = context.Request;
        var target = new Uri(worker.HttpUri!, incoming.PathBase + incoming.Path + WithoutKey(incoming.QueryString));
        var forwarded = new HttpRequestMessage(new HttpMethod(incoming.Method), target) { Version = new Version(1, 1) };
        var hasBody = incoming.ContentLength > 0 || incoming.Headers.TransferEncoding.Count > 0;
        if (hasBody)
        {
            forwarded.Content = new StreamContent(incoming.Body);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHopHeaders.Contains(name))
            {
                continue;
            }

            if (!forwarded.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                forwarded.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        forwarded.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
        forwarded.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.ToString());
        forwarded.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        return forwarded;
    }

    /// <summary>The key is the host's business; the function never sees it (nor logs it).</summary>
    private static QueryString WithoutKey(QueryString query)
    {
        if (!query.HasValue)
        {
            return query;
        }

        var parsed = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query.Value);
        if (!parsed.ContainsKey(KeyAuthorization.QueryName))
        {
            return query;
        }

        var kept = parsed.Where(p => !string.Equals(p.Key, KeyAuthorization.QueryName, StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v)));
        return QueryString.Create(kept);
    }

    private static void CopyResponseHeaders(HttpContext context, HttpResponseMessage response)
    {
        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        Copy(response.Headers);
        Copy(response.Content.Headers);

        void Copy(HttpHeaders headers)
        {
            foreach (var (name, values) in headers)
            {
                if (!HopByHopHeaders.Contains(name))
                {
                    outgoing.Headers[name] = values.ToArray();
                }
            }
        }
    }

    private static bool Succeeded(Task<InvocationResponse> invocation) =>
        invocation.IsCompletedSuccessfully && invocation.Result.Result?.Status == StatusResult.Types.Status.Success;

    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The outcome is read from the task itself.
        }
    }
}
