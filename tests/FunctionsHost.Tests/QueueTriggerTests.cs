using System.Net;
using System.Net.Http.Json;

namespace Storefront.FunctionsHost.Tests;

public sealed class QueueTriggerTests(FixtureHost fixture) : IClassFixture<FixtureHost>
{
    /// <summary>How long a test waits for a state it expects; a busy machine only makes the wait longer.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_message_is_processed_once_and_deleted()
    {
        var text = Guid.NewGuid().ToString("N");
        var queue = fixture.Queue(fixture.TextQueue);

        await queue.SendMessageAsync(text);

        Assert.True(await Eventually.TrueAsync(() => fixture.Probes($"text-{text}").Length > 0, Patience), "the message was not processed");
        // The count includes invisible messages: at 0 the message is deleted, so no invocation of it can follow.
        Assert.True(await Eventually.TrueAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, Patience), "the message was not deleted");
        Assert.Equal(["1"], fixture.Probes($"text-{text}"));
    }

    [Fact]
    public async Task A_QueueMessage_parameter_receives_the_message_itself()
    {
        var text = Guid.NewGuid().ToString("N");

        var sent = await fixture.Queue(fixture.ModelQueue).SendMessageAsync(text);

        Assert.True(await Eventually.TrueAsync(() => fixture.Probes($"model-{text}").Length > 0, Patience), "the message was not processed");
        Assert.Equal($"{sent.Value.MessageId}|1", fixture.Probes($"model-{text}").Single());
    }

    /// <summary>
    /// The failing queue's poison queue has a function of its own, as the app's poison handlers do; it fails
    /// too. The real extension gives a "-poison" queue no poison queue: the failed message is not released
    /// but stays invisible for the rest of its receive lease (ten minutes), so its handler is not retried
    /// in a fast loop and nothing lands in a "-poison-poison" queue.
    /// </summary>
    [Fact]
    public async Task A_message_that_always_fails_reaches_poison_and_a_failing_poison_handler_leaves_it_invisible_in_place()
    {
        var text = Guid.NewGuid().ToString("N");
        var poison = fixture.Queue(fixture.FailingQueue + "-poison");

        await fixture.Queue(fixture.FailingQueue).SendMessageAsync(text);

        Assert.True(await Eventually.TrueAsync(() => fixture.Probes($"poison-{text}").Length > 0, Patience), "the poison handler never saw the message");
        // host.json of the fixture app: maxDequeueCount 3, visibilityTimeout 0, maxPollingInterval 0.5 s.
        Assert.Equal(["1", "2", "3"], fixture.Probes($"failing-{text}").Order(StringComparer.Ordinal));
        Assert.Equal(0, (await fixture.Queue(fixture.FailingQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount);

        // Released, it would be visible again before a message sent after the host's decision, and received with it
        // or before it: once the later message has failed too, a retry of the first would have started.
        Assert.True(await Eventually.TrueAsync(() => PoisonLeftInvisible() >= 1, Patience), "the host did not leave the failed poison message invisible");
        var later = Guid.NewGuid().ToString("N");
        await poison.SendMessageAsync(later);
        Assert.True(await Eventually.TrueAsync(() => PoisonLeftInvisible() >= 2, Patience), "the poison handler did not fail the later message");
        Assert.Equal(["1"], fixture.Probes($"poison-{later}"));
        Assert.Equal(["1"], fixture.Probes($"poison-{text}"));
        Assert.Equal(2, (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.DoesNotContain((await poison.PeekMessagesAsync(32)).Value, m => m.Body.ToString() == text);
        Assert.False(await fixture.Queue(fixture.FailingQueue + "-poison-poison").ExistsAsync(), "a poison queue got a poison queue of its own");
    }

    [Fact]
    public async Task A_message_that_is_not_base64_goes_to_poison_as_it_came_without_an_invocation()
    {
        var text = "not base64: " + Guid.NewGuid().ToString("N");
        var rawPoison = fixture.Queue(fixture.TextQueue + "-poison", base64: false);

        await fixture.Queue(fixture.TextQueue, base64: false).SendMessageAsync(text);

        Assert.True(
            await Eventually.TrueAsync(async () => await rawPoison.ExistsAsync() && (await rawPoison.PeekMessagesAsync(32)).Value.Any(m => m.Body.ToString() == text), Patience),
            "the undecodable message did not reach the poison queue unchanged");
        Assert.Empty(Directory.GetFiles(fixture.ProbeDirectory, "text-not_base64*"));
    }

    [Theory]
    [InlineData("orders", true)]
    [InlineData("orders-poison", false)]
    [InlineData("ORDERS-POISON", false)]
    [InlineData("q23456789012345678901234567890123456789012345678901234567", false)]
    [InlineData("q2345678901234567890123456789012345678901234567890123456", true)]
    public void Only_a_queue_not_named_as_a_poison_queue_and_short_enough_for_the_suffix_gets_a_poison_queue(string queue, bool expected)
    {
        Assert.Equal(expected, Triggers.QueueTriggerListener.HasPoisonQueue(queue));
    }

    [Fact]
    public async Task Admin_invoke_runs_a_queue_function_on_demand_with_the_master_key()
    {
        var text = Guid.NewGuid().ToString("N");

        var refused = await fixture.Client.PostAsJsonAsync("admin/functions/QueueText", new { input = text });
        var accepted = await fixture.Client.PostAsJsonAsync($"admin/functions/QueueText?code={fixture.Host.Settings.MasterKey}", new { input = text });

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.True(await Eventually.TrueAsync(() => fixture.Probes($"text-{text}").Length == 1, Patience), "the on-demand invocation did not run");
    }

    [Fact]
    public async Task Admin_invoke_of_an_unknown_function_is_404()
    {
        var response = await fixture.Client.PostAsJsonAsync($"admin/functions/NoSuchFunction?code={fixture.Host.Settings.MasterKey}", new { input = "x" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>A run on schedule is never past due in the real TimerListener, however late a busy machine fires it.</summary>
    [Fact]
    public async Task A_timer_function_fires_on_its_schedule_and_is_not_past_due()
    {
        // The fixture's schedule is every second (six-field CRON with seconds).
        Assert.True(await Eventually.TrueAsync(() => fixture.Probes("tick").Length >= 2, Patience), "the timer did not fire twice");
        Assert.All(fixture.Probes("tick"), tick => Assert.Equal("on-time", tick));
    }

    /// <summary>How many failed messages the host left invisible in the failing queue's poison queue.</summary>
    private int PoisonLeftInvisible() =>
        fixture.Log.Since(0).Count(r => r.Message.Contains($"on {fixture.FailingQueue}-poison failed; a queue without a poison queue leaves it invisible", StringComparison.Ordinal));
}
