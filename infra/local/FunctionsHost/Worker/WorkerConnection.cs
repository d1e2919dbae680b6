using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;

namespace Storefront.FunctionsHost.Worker;

/// <summary>The host was told the worker is gone while an invocation was in flight.</summary>
public sealed class WorkerUnavailableException(string message) : Exception(message);

/// <summary>host.json functionTimeout (null: unbounded) and how long a timed-out invocation may take to end before its worker is restarted.</summary>
internal sealed record FunctionTimeout(TimeSpan? Limit, TimeSpan GracePeriod);

/// <summary>
/// One launched worker process and its gRPC event stream: the host's side of the protocol.
/// Messages to the worker go through one bounded channel because a gRPC stream allows a single writer.
/// </summary>
internal sealed class WorkerConnection : IAsyncDisposable
{
    private const int OutgoingCapacity = 4096;

    private readonly Channel<StreamingMessage> _outgoing = Channel.CreateBounded<StreamingMessage>(
        new BoundedChannelOptions(OutgoingCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationResponse>> _invocations = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<FunctionLoadResponse>> _loads = new();
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<WorkerInitResponse> _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<FunctionMetadataResponse> _metadata = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ILogger> _categoryLoggers = new();
    private Process? _process;

    private readonly Action<WorkerConnection> _onEnded;
    private readonly FunctionTimeout _timeout;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _timedOut = new();
    private readonly ConcurrentDictionary<string, string> _functionNames = new();

    /// <param name="onEnded">Runs once, synchronously, before in-flight invocations are failed.</param>
    public WorkerConnection(string workerId, FunctionTimeout timeout, ILoggerFactory loggerFactory, Action<WorkerConnection> onEnded)
    {
        WorkerId = workerId;
        _timeout = timeout;
        _onEnded = onEnded;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<WorkerConnection>();
    }

    public string WorkerId { get; }

    public int? ProcessId => _process is { } process ? SafeId(process) : null;

    /// <summary>The worker's own Kestrel endpoint (ASP.NET Core integration), from its init response.</summary>
    public Uri? HttpUri { get; private set; }

    /// <summary>Completes when the worker process exits or its stream ends, whichever comes first.</summary>
    public Task Ended => _ended.Task;

    public int InFlight => _invocations.Count;

    /// <summary>Invocations past the functionTimeout whose end is still awaited, each until its grace period is over.</summary>
    public int PastTimeout => _timedOut.Count;

    public void AttachProcess(Process process)
    {
        _process = process;
        process.Exited += (_, _) => End($"worker process exited with code {SafeExitCode(process)}");
        process.OutputDataReceived += (_, e) => LogProcessOutput(e.Data, LogLevel.Debug);
        // The worker logs over gRPC; what reaches stderr is a crash or a start-up failure.
        process.ErrorDataReceived += (_, e) => LogProcessOutput(e.Data, LogLevel.Warning);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (process.HasExited)
        {
            End("worker process exited at start");
        }
    }

    public Task WaitAttachedAsync(CancellationToken cancellationToken) => _attached.Task.WaitAsync(cancellationToken);

    /// <summary>Runs for the lifetime of the worker's EventStream call.</summary>
    public async Task RunStreamAsync(IAsyncStreamReader<StreamingMessage> reader, IServerStreamWriter<StreamingMessage> writer, CancellationToken cancellationToken)
    {
        _attached.TrySetResult();
        using var streamEnd = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writing = WriteLoopAsync(writer, streamEnd.Token);
        try
        {
            while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                Dispatch(reader.Current);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or Grpc.Core.RpcException)
        {
            _logger.LogDebug(exception, "Worker {WorkerId} stream closed", WorkerId);
        }
        finally
        {
            End("worker stream ended");
            await streamEnd.CancelAsync().ConfigureAwait(false);
            await writing.ConfigureAwait(false);
        }
    }

    public async Task<WorkerInitResponse> InitializeAsync(string appDirectory, CancellationToken cancellationToken)
    {
        var request = new WorkerInitRequest
        {
            HostVersion = "4.1000.0-storefront-local",
            WorkerDirectory = appDirectory,
            FunctionAppDirectory = appDirectory,
        };
        foreach (var capability in new[] { "RpcHttpBodyOnly", "RpcHttpTriggerMetadataRemoved", "TypedDataCollection", "HandlesWorkerTerminateMessage", "HandlesInvocationCancelMessage", "IncludeEmptyEntriesInMessagePayload" })
        {
            request.Capabilities[capability] = "true";
        }

        await SendAsync(new StreamingMessage { WorkerInitRequest = request }, cancellationToken).ConfigureAwait(false);
        var response = await _initialized.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response.Result, "worker init");
        if (response.Capabilities.TryGetValue("HttpUri", out var httpUri))
        {
            HttpUri = new Uri(httpUri);
        }

        return response;
    }

    public async Task<IReadOnlyList<FunctionDescriptor>> LoadFunctionsAsync(string appDirectory, CancellationToken cancellationToken)
    {
        await SendAsync(new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = appDirectory } }, cancellationToken).ConfigureAwait(false);
        var response = await _metadata.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response.Result, "function metadata");

        var loads = new List<Task<FunctionLoadResponse>>();
        foreach (var metadata in response.FunctionMetadataResults)
        {
            _logger.LogDebug("Function {Name} ({FunctionId}): {Bindings}", metadata.Name, metadata.FunctionId, string.Join(" ", metadata.RawBindings));
            _functionNames[metadata.FunctionId] = metadata.Name;
            var loaded = _loads.GetOrAdd(metadata.FunctionId, _ => new TaskCompletionSource<FunctionLoadResponse>(TaskCreationOptions.RunContinuationsAsynchronously));
            loads.Add(loaded.Task);
            await SendAsync(new StreamingMessage { FunctionLoadRequest = new FunctionLoadRequest { FunctionId = metadata.FunctionId, Metadata = metadata } }, cancellationToken).ConfigureAwait(false);
        }

        foreach (var load in await Task.WhenAll(loads).WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            EnsureSuccess(load.Result, $"function load {load.FunctionId}");
        }

        return response.FunctionMetadataResults.Select(FunctionDescriptor.From).ToArray();
    }

    /// <summary>
    /// Sends one invocation and waits for its result. Cancelling the token tells the worker
    /// (InvocationCancel) and still waits for the worker's answer, which reports the cancellation.
    /// Past the functionTimeout the invocation fails at once, as in the real host; if the worker has
    /// not finished it within the grace period that follows, the worker is killed (and so is every
    /// other invocation it was running) and the supervisor starts a new one.
    /// </summary>
    public async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<InvocationResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_invocations.TryAdd(request.InvocationId, completion))
        {
            throw new InvalidOperationException($"Duplicate invocation id {request.InvocationId}.");
        }

        try
        {
            if (_ended.Task.IsCompleted)
            {
                throw new WorkerUnavailableException("The worker has stopped.");
            }

            await SendAsync(new StreamingMessage { InvocationRequest = request }, CancellationToken.None).ConfigureAwait(false);
            await using var cancelRegistration = cancellationToken.Register(() => _ = SendCancelAsync(request.InvocationId)).ConfigureAwait(false);
            if (_timeout.Limit is not { } limit)
            {
                return await completion.Task.ConfigureAwait(false);
            }

            using var expiry = new CancellationTokenSource(limit);
            try
            {
                return await completion.Task.WaitAsync(expiry.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (expiry.IsCancellationRequested && !completion.Task.IsCompleted)
            {
                var name = _functionNames.TryGetValue(request.FunctionId, out var known) ? known : request.FunctionId;
                var message = $"Timeout value of {limit} was exceeded by function: Functions.{name} (invocation {request.InvocationId}).";
                _logger.LogWarning("{Message}", message);
                // Registered before this invocation leaves _invocations, so that its late answer is still seen.
                var lateAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _timedOut[request.InvocationId] = lateAnswer;
                _ = EndTimedOutAsync(request.InvocationId, Task.WhenAny(lateAnswer.Task, completion.Task));
                return new InvocationResponse
                {
                    InvocationId = request.InvocationId,
                    Result = new StatusResult { Status = StatusResult.Types.Status.Failure, Exception = new Rpc.RpcException { Message = message } },
                };
            }
        }
        finally
        {
            _invocations.TryRemove(request.InvocationId, out _);
        }
    }

    /// <summary>Asks the worker to exit; kills it if it has not within the grace period.</summary>
    public async Task TerminateAsync(TimeSpan gracePeriod)
    {
        if (!_ended.Task.IsCompleted && _attached.Task.IsCompleted)
        {
            try
            {
                using var sendTimeout = new CancellationTokenSource(gracePeriod);
                await SendAsync(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(gracePeriod) } }, sendTimeout.Token).ConfigureAwait(false);
                await _process!.WaitForExitAsync(sendTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException or InvalidOperationException)
            {
                _logger.LogWarning("Worker {WorkerId} did not exit within {GracePeriod}; killing it", WorkerId, gracePeriod);
            }
        }

        Kill();
    }

    public void Kill(string reason = "worker killed")
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        End(reason);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_process is { } process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _logger.LogWarning("Worker process {ProcessId} did not exit after kill", ProcessId);
            }

            process.Dispose();
        }
    }

    private void End(string reason)
    {
        if (!_ended.TrySetResult())
        {
            return;
        }

        _logger.LogInformation("Worker {WorkerId} ended: {Reason}", WorkerId, reason);
        _onEnded(this);
        _outgoing.Writer.TryComplete();
        var gone = new WorkerUnavailableException($"The worker stopped ({reason}).");
        _attached.TrySetException(gone);
        _initialized.TrySetException(gone);
        _metadata.TrySetException(gone);
        foreach (var load in _loads.Values)
        {
            load.TrySetException(gone);
        }

        foreach (var invocation in _invocations.Values)
        {
            invocation.TrySetException(gone);
        }
    }

    /// <summary>
    /// The real host's timeout handler: cancel, wait the grace period for the invocation to end, and
    /// otherwise restart the worker process that runs it.
    /// </summary>
    private async Task EndTimedOutAsync(string invocationId, Task answered)
    {
        try
        {
            await SendCancelAsync(invocationId).ConfigureAwait(false);
            await Task.WhenAny(answered, _ended.Task, Task.Delay(_timeout.GracePeriod)).ConfigureAwait(false);
            if (!answered.IsCompleted && !_ended.Task.IsCompleted)
            {
                _logger.LogWarning("A function timeout has occurred. Restarting worker process executing invocationId '{InvocationId}'.", invocationId);
                Kill("function timeout");
            }
        }
        finally
        {
            _timedOut.TryRemove(invocationId, out _);
        }
    }

    private async Task SendCancelAsync(string invocationId)
    {
        try
        {
            await SendAsync(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = invocationId } }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The worker is gone; the invocation fails on its own.
        }
    }

    private ValueTask SendAsync(StreamingMessage message, CancellationToken cancellationToken) =>
        _outgoing.Writer.WriteAsync(message, cancellationToken);

    private async Task WriteLoopAsync(IServerStreamWriter<StreamingMessage> writer, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or InvalidOperationException or Grpc.Core.RpcException)
        {
            End("writing to the worker failed");
        }
    }

    private void Dispatch(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                if (_invocations.TryGetValue(message.InvocationResponse.InvocationId, out var invocation))
                {
                    invocation.TrySetResult(message.InvocationResponse);
                }
                else if (_timedOut.TryGetValue(message.InvocationResponse.InvocationId, out var late))
                {
                    late.TrySetResult();
                }

                break;
            case StreamingMessage.ContentOneofCase.RpcLog:
                LogWorkerMessage(message.RpcLog);
                break;
            case StreamingMessage.ContentOneofCase.WorkerInitResponse:
                _initialized.TrySetResult(message.WorkerInitResponse);
                break;
            case StreamingMessage.ContentOneofCase.FunctionMetadataResponse:
                _metadata.TrySetResult(message.FunctionMetadataResponse);
                break;
            case StreamingMessage.ContentOneofCase.FunctionLoadResponse:
                _loads.GetOrAdd(message.FunctionLoadResponse.FunctionId, _ => new TaskCompletionSource<FunctionLoadResponse>(TaskCreationOptions.RunContinuationsAsynchronously))
                    .TrySetResult(message.FunctionLoadResponse);
                break;
            default:
                _logger.LogDebug("Ignoring worker message {Content}", message.ContentCase);
                break;
        }
    }

    private void LogWorkerMessage(RpcLog log)
    {
        var level = log.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        var category = string.IsNullOrEmpty(log.Category) ? "Worker" : log.Category;
        var logger = _categoryLoggers.GetOrAdd(category, _loggerFactory.CreateLogger);
        if (!logger.IsEnabled(level))
        {
            return;
        }

        var error = log.Exception is { } exception ? $"{Environment.NewLine}{exception.Type}: {exception.Message}{Environment.NewLine}{exception.StackTrace}" : string.Empty;
        if (string.IsNullOrEmpty(log.InvocationId))
        {
            logger.Log(level, "{Message}{Error}", log.Message, error);
        }
        else
        {
            logger.Log(level, "[{InvocationId}] {Message}{Error}", log.InvocationId, log.Message, error);
        }
    }

    private void LogProcessOutput(string? line, LogLevel level)
    {
        if (!string.IsNullOrWhiteSpace(line))
        {
            _logger.Log(level, "worker {WorkerId}: {Line}", WorkerId, line);
        }
    }

    private static void EnsureSuccess(StatusResult? result, string step)
    {
        if (result is null || result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"The worker failed at {step}: {result?.Exception?.Message ?? result?.Result ?? "no result"}");
        }
    }

    private static int? SafeId(Process process)
    {
        try
        {
            return process.Id;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "unknown";
        }
    }
}
