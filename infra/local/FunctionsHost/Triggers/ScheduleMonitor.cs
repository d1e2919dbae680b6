using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;

namespace Storefront.FunctionsHost.Triggers;

/// <summary>
/// The timer extension's schedule monitor (StorageScheduleMonitor): each monitored timer keeps its last and next
/// occurrence in the storage account, at azure-webjobs-hosts/timers/{hostId}/{function}/status, so that a host
/// starting after downtime sees the occurrence it missed and runs it at once, past due.
/// </summary>
internal sealed class ScheduleMonitor
{
    private const string Container = "azure-webjobs-hosts";
    private const string HostIdSetting = "AzureFunctionsWebHost__hostid";
    private const int MaxHostIdLength = 32;

    private readonly BlobContainerClient _container;
    private readonly BlobClient _status;

    public ScheduleMonitor(AppSettings settings, string appDirectory, string functionName)
    {
        _container = new BlobContainerClient(settings.StorageConnectionString(null), Container);
        _status = _container.GetBlobClient($"timers/{HostId(settings, appDirectory)}/{functionName}/status");
    }

    /// <summary>
    /// The app's host id as the real host takes it: the AzureFunctionsWebHost__hostid setting when set; otherwise
    /// (Azure derives it from the site name) one derived from the app's folder, so that two apps never share status.
    /// </summary>
    public static string HostId(AppSettings settings, string appDirectory)
    {
        if (settings[HostIdSetting] is { Length: > 0 } configured)
        {
            return configured.ToLowerInvariant();
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(appDirectory))));
        return $"local-{hash}"[..MaxHostIdLength];
    }

    public async Task<ScheduleStatus?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var content = await _status.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return content.Value.Content.ToObjectFromJson<ScheduleStatus>(JsonSerializerOptions.Default);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            return null;
        }
    }

    public async Task WriteAsync(ScheduleStatus status, CancellationToken cancellationToken)
    {
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _status.UploadAsync(BinaryData.FromObjectAsJson(status, JsonSerializerOptions.Default), overwrite: true, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The stored status of one timer, field for field as the extension's ScheduleStatus.</summary>
internal sealed record ScheduleStatus(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);
