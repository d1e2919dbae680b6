using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Timeout;
using Storefront.Api.ExternalServices;

namespace Storefront.UnitTests.ExternalServices;

public sealed class HedgingHandlerTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_quick_answer_is_not_hedged()
    {
        var service = new FakeService((_, _) => Task.FromResult(Answer(HttpStatusCode.OK, "first")));

        var response = await SendAsync(service, Calls());

        Assert.Equal("first", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, service.Attempts);
    }

    [Fact]
    public async Task A_slow_first_attempt_is_hedged_after_the_delay_and_the_first_answer_wins()
    {
        var firstCancelled = new TaskCompletionSource();
        var service = new FakeService(async (attempt, token) =>
        {
            if (attempt == 1)
            {
                token.Register(() => firstCancelled.TrySetResult());
                await Task.Delay(System.Threading.Timeout.Infinite, token);
            }

            return Answer(HttpStatusCode.OK, $"attempt {attempt}");
        });

        var response = await SendAsync(service, Calls());

        Assert.Equal("attempt 2", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, service.Attempts);
        await firstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_transient_failure_is_hedged_at_once()
    {
        var service = new FakeService((attempt, _) => Task.FromResult(attempt == 1 ? Answer(HttpStatusCode.ServiceUnavailable, "down") : Answer(HttpStatusCode.OK, "hedge")));

        // A hedge that waited for its delay would come after the call's 2 s timeout, and the call would fail.
        var response = await SendAsync(service, Calls(delay: TimeSpan.FromMinutes(10)));

        Assert.Equal("hedge", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, service.Attempts);
    }

    [Fact]
    public async Task A_refusal_is_not_hedged()
    {
        var service = new FakeService((_, _) => Task.FromResult(Answer(HttpStatusCode.TooManyRequests, "slow down")));

        var response = await SendAsync(service, Calls());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(1, service.Attempts);
    }

    [Fact]
    public async Task Without_budget_the_slow_attempt_is_awaited_alone()
    {
        var budget = new HedgeBudget(0, 1);
        Assert.True(budget.TryTakeExtraAttempt());
        var service = new FakeService(async (_, token) =>
        {
            await Task.Delay(Delay * 2, token);
            return Answer(HttpStatusCode.OK, "slow");
        });

        var response = await SendAsync(service, Calls(budget: budget));

        Assert.Equal("slow", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, service.Attempts);
    }

    [Fact]
    public async Task A_starved_process_does_not_hedge()
    {
        var service = new FakeService(async (_, token) =>
        {
            await Task.Delay(Delay * 2, token);
            return Answer(HttpStatusCode.OK, "slow");
        });

        var response = await SendAsync(service, Calls(mayHedge: () => false));

        Assert.Equal("slow", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, service.Attempts);
    }

    [Fact]
    public async Task When_both_attempts_fail_the_call_fails()
    {
        var service = new FakeService((_, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException("refused")));

        await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(service, Calls()));
        Assert.Equal(2, service.Attempts);
    }

    [Fact]
    public async Task A_call_that_outlasts_its_timeout_is_rejected_as_a_timeout()
    {
        var service = new FakeService(async (_, token) =>
        {
            await Task.Delay(System.Threading.Timeout.Infinite, token);
            return Answer(HttpStatusCode.OK, "never");
        });

        // No hedging delay: the hedge is sent before the call's timeout can run out, however slow the machine.
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => SendAsync(service, Calls(delay: TimeSpan.Zero, timeout: TimeSpan.FromMilliseconds(300))));
        Assert.Equal(2, service.Attempts);
    }

    [Fact]
    public async Task An_attempt_that_outlasts_the_attempt_timeout_is_hedged()
    {
        var attempt = HedgedCalls.AttemptPipeline("Test", new HttpCircuitBreakerStrategyOptions(), TimeSpan.FromMilliseconds(50), NullLogger.Instance);
        var service = new FakeService(async (n, token) =>
        {
            if (n == 1)
            {
                await Task.Delay(System.Threading.Timeout.Infinite, token);
            }

            return Answer(HttpStatusCode.OK, $"attempt {n}");
        });

        var response = await SendAsync(service, Calls(attempt: attempt, delay: TimeSpan.FromSeconds(1)));

        Assert.Equal("attempt 2", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_caller_going_away_is_a_cancellation_not_a_timeout()
    {
        var service = new FakeService(async (_, token) =>
        {
            await Task.Delay(System.Threading.Timeout.Infinite, token);
            return Answer(HttpStatusCode.OK, "never");
        });
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SendAsync(service, Calls(), caller.Token));
    }

    private static HedgedCalls Calls(
        TimeSpan? delay = null, TimeSpan? timeout = null, HedgeBudget? budget = null, Func<bool>? mayHedge = null, ResiliencePipeline<HttpResponseMessage>? attempt = null) =>
        new(attempt ?? ResiliencePipeline<HttpResponseMessage>.Empty, timeout ?? Timeout, delay ?? Delay, budget ?? new HedgeBudget(0.2, 10), mayHedge ?? (() => true));

    private static async Task<HttpResponseMessage> SendAsync(FakeService service, HedgedCalls calls, CancellationToken cancellationToken = default)
    {
        using var invoker = new HttpMessageInvoker(new HedgingHandler(calls) { InnerHandler = service });
        return await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://inventory.test/stock/SKU-1"), cancellationToken);
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, string body) => new(status) { Content = new StringContent(body) };

    private sealed class FakeService(Func<int, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            answer(Interlocked.Increment(ref _attempts), cancellationToken);
    }
}
