using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Storefront.FunctionsHost.Rpc;

namespace Storefront.FunctionsHost.Worker;

/// <summary>Workers this host launched and is waiting to hear from, by worker id.</summary>
internal sealed class WorkerRegistry
{
    private readonly ConcurrentDictionary<string, WorkerConnection> _workers = new();

    public void Add(WorkerConnection worker) => _workers[worker.WorkerId] = worker;

    public void Remove(WorkerConnection worker) => _workers.TryRemove(worker.WorkerId, out _);

    public WorkerConnection? Find(string workerId) => _workers.GetValueOrDefault(workerId);
}

/// <summary>The gRPC endpoint every worker dials: the first message names the worker, the rest is its stream.</summary>
internal sealed class FunctionRpcService(WorkerRegistry registry, ILogger<FunctionRpcService> logger) : FunctionRpc.FunctionRpcBase
{
    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false)
            || requestStream.Current.ContentCase != StreamingMessage.ContentOneofCase.StartStream)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.InvalidArgument, "The first message must be StartStream."));
        }

        var workerId = requestStream.Current.StartStream.WorkerId;
        var worker = registry.Find(workerId);
        if (worker is null)
        {
            logger.LogWarning("Rejected a stream from unknown worker {WorkerId}", workerId);
            throw new Grpc.Core.RpcException(new Status(StatusCode.PermissionDenied, "Unknown worker id."));
        }

        await worker.RunStreamAsync(requestStream, responseStream, context.CancellationToken).ConfigureAwait(false);
    }
}
