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
    ILogger<HttpFunctionInvoker> logger)
{
    public const string WorkerClientName = "worker";

    private const int RelayBufferSize = 16 * 1024;

    private static readonly HashSet<string> HopByHopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
    };

    /// <summary>Set by the proxy alone, as YARP's default transforms do: a client's own values are dropped.</summary>
    private static readonly HashSet<string> ForwardedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix",
    };

    /// <param name="disabled">A disabled function answers a bodyless 404 to every request without the master key (H FunctionInvocationMiddleware).</param>
    public async Task InvokeAsync(HttpContext context, FunctionDescriptor function, bool disabled)
    {
        if (disabled && !keys.IsAuthorized(context.Request, AuthLevel.Admin))
        {
            HostAnswers.Write(context, StatusCodes.Status404NotFound);
            return;
        }

        if (!keys.IsAuthorized(context.Request, function.AuthLevel))
        {
            HostAnswers.Write(context, StatusCodes.Status401Unauthorized);
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
            HostAnswers.Write(context, StatusCodes.Status503ServiceUnavailable);
            context.Response.Headers.RetryAfter = "1";
            return;
        }

        var request = Invocations.Create(function, new TypedData { Http = new RpcHttp() });
        AddBindingData(context, request);

        using var invocationCancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);

        var invocation = worker.InvokeAsync(request, invocationCancellation.Token);
        using var forwardCancellation = CancellationTokenSource.CreateLinkedTokenSource(invocationCancellation.Token);
        var clientBody = new ClientBodyStream(context.Request.Body);
        using var forwarded = CreateForwardedRequest(context, worker, request.InvocationId, clientBody);
        var forwarding = httpClientFactory.CreateClient(WorkerClientName)
            .SendAsync(forwarded, HttpCompletionOption.ResponseHeadersRead, forwardCancellation.Token);

        // A function that fails before writing leaves the worker's Kestrel waiting; don't wait with it.
        if (await Task.WhenAny(invocation, forwarding).ConfigureAwait(false) == invocation && !Succeeded(invocation))
        {
            await forwardCancellation.CancelAsync().ConfigureAwait(false);
            await ObserveAsync(forwarding).ConfigureAwait(false);
            RespondToFailure(context, invocation, request.InvocationId, clientBody);
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

            if (clientBody.Failure is null)
            {
                logger.LogWarning(exception, "Forwarding invocation {InvocationId} to the worker failed", request.InvocationId);
            }

            await ObserveAsync(invocation).ConfigureAwait(false);
            RespondToFailure(context, invocation, request.InvocationId, clientBody);
            return;
        }

        using (response)
        {
            await RelayAsync(context, response, invocation, request.InvocationId, clientBody).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Relays the worker's response as it arrives, as the real host's YARP forwarder does, so the client has a body
    /// of known length before the InvocationResponse is in. A response without a body waits for the invocation's
    /// result: a function that failed leaves the worker answering an empty 200, which becomes a bodyless 500. Once a
    /// body went out, a failure can only abort the connection (the real host's ExceptionMiddleware rethrows).
    /// </summary>
    private async Task RelayAsync(HttpContext context, HttpResponseMessage response, Task<InvocationResponse> invocation, string invocationId, ClientBodyStream clientBody)
    {
        var aborted = context.RequestAborted;
        var buffer = ArrayPool<byte>.Shared.Rent(RelayBufferSize);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
            var read = await body.ReadAsync(buffer, aborted).ConfigureAwait(false);
            if (read == 0)
            {
                await ObserveAsync(invocation).ConfigureAwait(false);
                if (!Succeeded(invocation))
                {
                    RespondToFailure(context, invocation, invocationId, clientBody);
                    return;
                }

                CopyResponseHeaders(context, response);
                return;
            }

            CopyResponseHeaders(context, response);
            do
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), aborted).ConfigureAwait(false);
                read = await body.ReadAsync(buffer, aborted).ConfigureAwait(false);
            }
            while (read > 0);

            await ObserveAsync(invocation).ConfigureAwait(false);
            if (!Succeeded(invocation))
            {
                logger.LogWarning("Invocation {InvocationId} failed after its response started; aborting the connection", invocationId);
                context.Abort();
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or HttpRequestException)
        {
            if (!aborted.IsCancellationRequested)
            {
                logger.LogWarning(exception, "Relaying the response of invocation {InvocationId} failed", invocationId);
                if (!context.Response.HasStarted)
                {
                    HostAnswers.Write(context, StatusCodes.Status502BadGateway);
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

    /// <summary>
    /// A bodyless 500, as the real host answers a failed invocation; or, when reading the client's own body
    /// failed (bad chunked framing, too large, too slow), the 4xx Kestrel gave that failure.
    /// </summary>
    private void RespondToFailure(HttpContext context, Task<InvocationResponse> invocation, string invocationId, ClientBodyStream clientBody)
    {
        if (context.RequestAborted.IsCancellationRequested || context.Response.HasStarted)
        {
            return;
        }

        if (clientBody.Failure is { } bodyFailure)
        {
            logger.LogInformation("Invocation {InvocationId}: the client's request body was refused ({Status}): {Error}", invocationId, bodyFailure.StatusCode, bodyFailure.Message);
            HostAnswers.Write(context, bodyFailure.StatusCode);
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

        HostAnswers.Write(context, StatusCodes.Status500InternalServerError);
    }

    private static void AddBindingData(HttpContext context, InvocationRequest request)
    {
        // Query first, route values second: a route parameter wins over a query parameter of the same name.
        // The key's code parameter is included, as the real host hands the whole query over.
        foreach (var (key, value) in context.Request.Query)
        {
            request.TriggerMetadata[key] = Invocations.Text(value.ToString());
        }

        foreach (var (key, value) in context.GetRouteData().Values)
        {
            if (value is not null)
            {
                request.TriggerMetadata[key] = Invocations.Text(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty);
            }
        }
    }

    /// <summary>
    /// The client's request as it came, function key included (the real host forwards it through YARP's default
    /// transforms): the request target exactly as sent, so percent-encoding is neither added nor removed, and the
    /// X-Forwarded-For, -Host and -Proto headers set from the client's connection.
    /// </summary>
    private static HttpRequestMessage CreateForwardedRequest(HttpContext context, WorkerConnection worker, string invocationId, ClientBodyStream clientBody)
    {
        var incoming = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var pathAndQuery = rawTarget is { Length: > 0 } && rawTarget[0] == '/' ? rawTarget : incoming.PathBase + incoming.Path + incoming.QueryString;
        var target = new Uri(worker.HttpUri!.GetLeftPart(UriPartial.Authority) + pathAndQuery, UriKind.Absolute);
        var forwarded = new HttpRequestMessage(new HttpMethod(incoming.Method), target) { Version = new Version(1, 1) };
        var hasBody = incoming.ContentLength > 0 || incoming.Headers.TransferEncoding.Count > 0;
        if (hasBody)
        {
            forwarded.Content = new StreamContent(clientBody);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHopHeaders.Contains(name) || ForwardedHeaders.Contains(name))
            {
                continue;
            }

            if (!forwarded.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                forwarded.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        forwarded.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
        if (context.Connection.RemoteIpAddress is { } client)
        {
            forwarded.Headers.TryAddWithoutValidation("X-Forwarded-For", client.ToString());
        }

        forwarded.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.ToString());
        forwarded.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        return forwarded;
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

    /// <summary>
    /// The client's request body as forwarded to the worker; remembers why Kestrel refused to read it
    /// (malformed chunked framing 400, over the size limit 413, arriving too slowly 408), because by the time
    /// the failure surfaces it is wrapped in the forwarding client's own exceptions.
    /// </summary>
    private sealed class ClientBodyStream(Stream inner) : Stream
    {
        public BadHttpRequestException? Failure { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException exception)
            {
                Failure ??= exception;
                throw;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The client's body is read asynchronously only.");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
