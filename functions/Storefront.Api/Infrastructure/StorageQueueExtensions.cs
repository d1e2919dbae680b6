using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Infrastructure;

public static class StorageQueueExtensions
{
    /// <summary>The storage account the Functions host itself uses; the app's queues live there too.</summary>
    public const string ConnectionName = "AzureWebJobsStorage";

    /// <summary>
    /// Registers the one <see cref="QueueServiceClient"/> of the app. The identity-based form of the setting
    /// (AzureWebJobsStorage__queueServiceUri plus a credential) belongs here.
    /// </summary>
    public static IHostApplicationBuilder AddStorageQueues(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration[ConnectionName];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException($"Configuration '{ConnectionName}' (a storage connection string) is required.");
        }

        // host.json sets queues.messageEncoding to base64, so messages the app sends must match for queue triggers to read them.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        builder.Services.AddSingleton(new QueueServiceClient(connectionString, options));
        return builder;
    }
}
