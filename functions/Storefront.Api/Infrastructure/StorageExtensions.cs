using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Storefront.Api.Infrastructure;

public static class StorageExtensions
{
    /// <summary>The storage account the Functions host itself uses; the app's queues and blobs live there too.</summary>
    public const string ConnectionName = "AzureWebJobsStorage";

    /// <summary>
    /// Registers the one <see cref="QueueServiceClient"/> and <see cref="BlobServiceClient"/> of the app, from the
    /// same setting as the host: the identity-based form (<c>AzureWebJobsStorage__queueServiceUri</c> and
    /// <c>__blobServiceUri</c>, with the managed identity <c>AzureWebJobsStorage__clientId</c>) when the queue URI
    /// is set, otherwise the connection string <c>AzureWebJobsStorage</c>.
    /// </summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        // host.json sets queues.messageEncoding to base64, so messages the app sends must match for queue triggers to read them.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        var blobOptions = new BlobClientOptions();
        ConfigureRetries(options);
        ConfigureRetries(blobOptions);

        var section = builder.Configuration.GetSection(ConnectionName);
        if (section["queueServiceUri"] is { Length: > 0 } queueServiceUri)
        {
            var credential = AzureCredentials.Create(section["clientId"]);
            builder.Services.AddSingleton(new QueueServiceClient(new Uri(queueServiceUri), credential, options));
            var blobServiceUri = section["blobServiceUri"] is { Length: > 0 } blobUri
                ? blobUri
                : throw new InvalidOperationException($"Configuration '{ConnectionName}:blobServiceUri' is required with '{ConnectionName}:queueServiceUri'.");
            builder.Services.AddSingleton(new BlobServiceClient(new Uri(blobServiceUri), credential, blobOptions));
            return builder;
        }

        var connectionString = builder.Configuration[ConnectionName];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Configuration '{ConnectionName}' (a storage connection string) or '{ConnectionName}:queueServiceUri' " +
                $"(app setting {ConnectionName}__queueServiceUri) is required.");
        }

        builder.Services.AddSingleton(new QueueServiceClient(connectionString, options));
        builder.Services.AddSingleton(new BlobServiceClient(connectionString, blobOptions));
        return builder;
    }

    /// <summary>
    /// Quicker retries than the SDK's default (0.8 s doubling, three times): a request waiting on storage learns within
    /// about a second and a half that it is down and answers 503, and queued work reschedules itself sooner.
    /// </summary>
    private static void ConfigureRetries(Azure.Core.ClientOptions options)
    {
        var retry = options.Retry;
        retry.Mode = Azure.Core.RetryMode.Exponential;
        retry.MaxRetries = 3;
        retry.Delay = TimeSpan.FromMilliseconds(200);
        retry.MaxDelay = TimeSpan.FromSeconds(2);
    }
}

/// <summary>The Azure credential of the app: its user-assigned managed identity in Azure, your developer login locally.</summary>
public static class AzureCredentials
{
    /// <summary>
    /// The managed identity with this client id when one is given (no probing of other credential sources, no
    /// wrong identity picked on a host with several); otherwise <see cref="DefaultAzureCredential"/>.
    /// </summary>
    public static TokenCredential Create(string? managedIdentityClientId) =>
        string.IsNullOrWhiteSpace(managedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId));
}
