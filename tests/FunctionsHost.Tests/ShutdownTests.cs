namespace Storefront.FunctionsHost.Tests;

/// <summary>
/// What a host stop does to invocations still running, as the real listeners' stops do outside drain mode: they are
/// cancelled at once (TimerListener.StopAsync, QueueListener.StopAsync), and the host waits, up to its grace period,
/// for their answers. Each test owns its host, since it stops it.
/// </summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    /// <summary>Only a bound: a stop ends as soon as the cancelled invocation answers.</summary>
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Stopping_cancels_a_running_timer_invocation_and_waits_for_its_answer()
    {
        var fixture = new FixtureHost { HoldingSchedule = "*/1 * * * * *", ShutdownGracePeriod = GracePeriod };
        try
        {
            await fixture.InitializeAsync();
            Assert.True(await Eventually.TrueAsync(() => fixture.Probes("holding-timer").Length > 0, Patience), "the timer did not fire");

            // Without a cancellation the stop would wait for as long as the function runs (here for ever), or the grace period.
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
            Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }
}
