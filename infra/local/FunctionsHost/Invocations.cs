using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Storefront.FunctionsHost.Rpc;

namespace Storefront.FunctionsHost;

/// <summary>Builds InvocationRequests the way the real host does for each trigger type.</summary>
internal static class Invocations
{
    public static InvocationRequest Create(FunctionDescriptor function, TypedData triggerData)
    {
        var request = new InvocationRequest
        {
            InvocationId = Guid.NewGuid().ToString(),
            FunctionId = function.FunctionId,
            // The worker refuses an invocation without a W3C trace context.
            TraceContext = new RpcTraceContext { TraceParent = TraceParent() },
        };
        request.InputData.Add(new ParameterBinding { Name = function.TriggerName, Data = triggerData });
        return request;
    }

    public static TypedData Text(string value) => new() { String = value };

    public static TypedData Json(string value) => new() { Json = value };

    public static TypedData JsonString(DateTimeOffset value) => Json(JsonSerializer.Serialize(value));

    /// <summary>The SDK-type binding payload the Storage Queues worker extension accepts.</summary>
    public static TypedData QueueMessageModel(QueueMessageFacts message)
    {
        var content = JsonSerializer.SerializeToUtf8Bytes(new
        {
            message.MessageId,
            message.PopReceipt,
            MessageText = message.Text,
            message.DequeueCount,
            InsertedOn = message.InsertedOn,
            ExpiresOn = message.ExpiresOn,
            NextVisibleOn = message.NextVisibleOn,
        });
        return new TypedData
        {
            ModelBindingData = new ModelBindingData
            {
                Version = "1.0",
                Source = "AzureStorageQueues",
                ContentType = "application/json",
                Content = ByteString.CopyFrom(content),
            },
        };
    }

    public static InvocationRequest ForQueueMessage(FunctionDescriptor function, QueueMessageFacts message)
    {
        var data = function.SupportsDeferredBinding ? QueueMessageModel(message) : Text(message.Text);
        var request = Create(function, data);
        var metadata = request.TriggerMetadata;
        metadata["QueueTrigger"] = Text(message.Text);
        metadata["Id"] = Text(message.MessageId);
        metadata["PopReceipt"] = Text(message.PopReceipt);
        metadata["DequeueCount"] = Json(message.DequeueCount.ToString(CultureInfo.InvariantCulture));
        metadata["InsertionTime"] = JsonString(message.InsertedOn);
        metadata["ExpirationTime"] = JsonString(message.ExpiresOn);
        metadata["NextVisibleTime"] = JsonString(message.NextVisibleOn);
        return request;
    }

    public static InvocationRequest ForTimer(FunctionDescriptor function, DateTimeOffset? last, DateTimeOffset next, bool isPastDue)
    {
        var timerInfo = JsonSerializer.Serialize(new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = new { Last = last ?? DateTimeOffset.MinValue, Next = next, LastUpdated = DateTimeOffset.UtcNow },
            IsPastDue = isPastDue,
        });
        return Create(function, Json(timerInfo));
    }

    private static string TraceParent()
    {
        var activity = Activity.Current;
        var traceId = activity?.TraceId ?? ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        return $"00-{traceId.ToHexString()}-{spanId.ToHexString()}-01";
    }
}

/// <summary>What the worker is told about a queue message.</summary>
internal sealed record QueueMessageFacts(
    string MessageId,
    string PopReceipt,
    string Text,
    long DequeueCount,
    DateTimeOffset InsertedOn,
    DateTimeOffset ExpiresOn,
    DateTimeOffset NextVisibleOn);
