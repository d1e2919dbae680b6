using System.Text.Json;
using Azure.Storage.Blobs;

namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// The fixture's Daily timer (03:00 every day, runOnStartup) under the schedule monitor, as the real
/// TimerListener runs it: on a first start, runOnStartup's run, not past due; after downtime that spanned an
/// occurrence, that occurrence at once, past due (and no extra runOnStartup run).
/// </summary>
public sealed class TimerTriggerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_first_start_runs_on_startup_not_past_due_and_records_the_next_occurrence()
    {
        var fixture = new FixtureHost();
        try
        {
            await fixture.InitializeAsync();

            Assert.True(await Eventually.TrueAsync(() => fixture.Probes("daily").Length == 1, Patience), "runOnStartup did not run");
            Assert.Equal(["on-time"], fixture.Probes("daily"));
            var status = await StatusAsync(fixture);
            Assert.True(await Eventually.TrueAsync(async () => await status.ExistsAsync(), Patience), "no schedule status was stored");
        }
        finally
        {
            await fixture.DisposeAsync();
        }

        var stored = JsonDocument.Parse((await (await StatusAsync(fixture)).DownloadContentAsync()).Value.Content.ToString()).RootElement;
        Assert.True(stored.GetProperty("Next").GetDateTimeOffset() > DateTimeOffset.UtcNow, "the stored next occurrence is not in the future");
    }

    [Fact]
    public async Task An_occurrence_missed_while_no_host_ran_runs_at_start_past_due_once()
    {
        var fixture = new FixtureHost();
        try
        {
            var missed = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-2).AddHours(3), TimeSpan.Zero);
            var status = await StatusAsync(fixture);
            await status.UploadAsync(BinaryData.FromObjectAsJson(new { Last = missed.AddDays(-1), Next = missed, LastUpdated = missed.AddDays(-1) }), overwrite: true);

            await fixture.InitializeAsync();

            Assert.True(await Eventually.TrueAsync(() => fixture.Probes("daily").Length >= 1, Patience), "the missed occurrence did not run");
            Assert.True(
                await Eventually.TrueAsync(
                    async () => JsonDocument.Parse((await status.DownloadContentAsync()).Value.Content.ToString()).RootElement.GetProperty("Last").GetDateTimeOffset() > missed,
                    Patience),
                "the run was not recorded as the last occurrence");
            Assert.Equal(["past-due"], fixture.Probes("daily"));
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    private static async Task<BlobClient> StatusAsync(FixtureHost fixture)
    {
        var container = new BlobContainerClient(FixtureHost.StorageConnectionString, "azure-webjobs-hosts");
        await container.CreateIfNotExistsAsync();
        return container.GetBlobClient($"timers/{fixture.HostId}/Daily/status");
    }
}
