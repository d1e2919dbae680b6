using Azure.Storage.Queues.Models;

namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// What a host stop does to invocations still running, as the real listeners' stops do outside drain mode: they are
/// cancelled at once (TimerListener.StopAsync, QueueListener.StopAsync), and the host waits, up to its grace period,
/// for their answers. Each test owns its host, since it stops it.
/// </summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    /// <summary>
    /// Far longer than <see cref="Patience"/>: a stop that let the invocation run on, instead of cancelling it, would not
    /// end within the patience. A stop that cancels ends as soon as the invocation answers.
    /// </summary>
    private static readonly TimeSpan GracePeriod = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Stopping_cancels_a_running_timer_invocation_and_waits_for_its_answer()
    {
        var fixture = new FixtureHost { HoldingSchedule = "*/1 * * * * *", ShutdownGracePeriod = GracePeriod };
        try
        {
            await fixture.InitializeAsync();
            Assert.True(await Eventually.TrueAsync(() => fixture.Probes("holding-timer").Length > 0, Patience), "the timer did not fire");

            await fixture.Host.StopAsync().WaitAsync(Patience);

            Assert.Equal(["cancelled", "started"], fixture.Probes("holding-timer").Order(StringComparer.Ordinal));
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stopping_cancels_a_running_queue_invocation_and_keeps_its_message()
    {
        var fixture = new FixtureHost { ShutdownGracePeriod = GracePeriod };
        try
        {
            await fixture.InitializeAsync();
            var text = Guid.NewGuid().ToString("N");
            var queue = fixture.Queue(fixture.HoldingQueue);
            await queue.SendMessageAsync(text);
            Assert.True(await Eventually.TrueAsync(() => fixture.Probes($"holding-{text}").Length > 0, Patience), "the message was not taken");

            await fixture.Host.StopAsync().WaitAsync(Patience);

            Assert.Equal(["cancelled", "started"], fixture.Probes($"holding-{text}").Order(StringComparer.Ordinal));

            // Released as a failed invocation's message is (visibilityTimeout 0 in the fixture's host.json): visible again
            // at once, its second delivery next.
            QueueMessage? again = null;
            Assert.True(await Eventually.TrueAsync(async () => (again = (await queue.ReceiveMessageAsync()).Value) is not null, Patience), "the message was not released");
            Assert.Equal(text, again!.Body.ToString());
            Assert.Equal(2, again.DequeueCount);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }
}
