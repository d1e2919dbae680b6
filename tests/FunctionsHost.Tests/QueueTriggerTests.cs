using System.Net;
using System.Net.Http.Json;

namespace Storefront.FunctionsHost.Tests;

public sealed class QueueTriggerTests(FixtureHost fixture) : IClassFixture<FixtureHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_message_is_processed_once_and_deleted()
    {
        var text = Guid.NewGuid().ToString("N");
        var queue = fixture.Queue(fixture.TextQueue);

        await queue.SendMessageAsync(text);

        Assert.True(await FixtureHost.EventuallyAsync(() => fixture.Probes($"text-{text}").Length > 0, Patience), "the message was not processed");
        Assert.True(await FixtureHost.EventuallyAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, Patience), "the message was not deleted");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(["1"], fixture.Probes($"text-{text}"));
    }

    [Fact]
    public async Task A_QueueMessage_parameter_receives_the_message_itself()
    {
        var text = Guid.NewGuid().ToString("N");

        var sent = await fixture.Queue(fixture.ModelQueue).SendMessageAsync(text);

        Assert.True(await FixtureHost.EventuallyAsync(() => fixture.Probes($"model-{text}").Length > 0, Patience), "the message was not processed");
        Assert.Equal($"{sent.Value.MessageId}|1", fixture.Probes($"model-{text}").Single());
    }

    [Fact]
    public async Task A_message_that_always_fails_reaches_poison_after_max_dequeue_count_with_rising_dequeue_count()
    {
        var text = Guid.NewGuid().ToString("N");
        var poison = fixture.Queue(fixture.FailingQueue + "-poison");

        await fixture.Queue(fixture.FailingQueue).SendMessageAsync(text);

        Assert.True(await FixtureHost.EventuallyAsync(async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(32)).Value.Any(m => m.Body.ToString() == text), Patience), "the message never reached the poison queue");
        // host.json of the fixture app: maxDequeueCount 3.
        Assert.Equal(["1", "2", "3"], fixture.Probes($"failing-{text}").Order(StringComparer.Ordinal));
        Assert.Equal(0, (await fixture.Queue(fixture.FailingQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task A_message_that_is_not_base64_goes_to_poison_without_an_invocation()
    {
        var text = "not base64: " + Guid.NewGuid().ToString("N");
        var poison = fixture.Queue(fixture.TextQueue + "-poison");

        await fixture.Queue(fixture.TextQueue, base64: false).SendMessageAsync(text);

        Assert.True(await FixtureHost.EventuallyAsync(async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(32)).Value.Any(m => m.Body.ToString().Contains(text, StringComparison.Ordinal)), Patience), "the undecodable message did not reach the poison queue");
        Assert.Empty(Directory.GetFiles(fixture.ProbeDirectory, "text-not_base64*"));
    }

    [Fact]
    public async Task Admin_invoke_runs_a_queue_function_on_demand_with_the_master_key()
    {
        var text = Guid.NewGuid().ToString("N");

        var refused = await fixture.Client.PostAsJsonAsync("admin/functions/QueueText", new { input = text });
        var accepted = await fixture.Client.PostAsJsonAsync($"admin/functions/QueueText?code={fixture.Host.Settings.MasterKey}", new { input = text });

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.True(await FixtureHost.EventuallyAsync(() => fixture.Probes($"text-{text}").Length == 1, Patience), "the on-demand invocation did not run");
    }

    [Fact]
    public async Task Admin_invoke_of_an_unknown_function_is_404()
    {
        var response = await fixture.Client.PostAsJsonAsync($"admin/functions/NoSuchFunction?code={fixture.Host.Settings.MasterKey}", new { input = "x" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_timer_function_fires_on_its_schedule()
    {
        // The fixture's schedule is every second (six-field CRON with seconds).
        Assert.True(await FixtureHost.EventuallyAsync(() => fixture.Probes("tick").Length >= 2, Patience), "the timer did not fire twice");
    }
}
