using Storefront.Api.Infrastructure.Recovery;

namespace Storefront.UnitTests.Recovery;

public sealed class RetryRulesTests
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1, 0.0, 500)]
    [InlineData(1, 0.999999, 1000)]
    [InlineData(2, 0.0, 1000)]
    [InlineData(3, 0.5, 3000)]
    [InlineData(5, 1.0, 16000)]
    public void Backoff_doubles_from_the_first_delay_with_half_of_it_jittered(int attempt, double random, double expectedMs) =>
        Assert.Equal(expectedMs, RetryRules.Backoff(attempt, First, Max, random).TotalMilliseconds, precision: 0);

    [Theory]
    [InlineData(6)]
    [InlineData(40)]
    [InlineData(int.MaxValue)]
    public void Backoff_never_exceeds_the_maximum_however_many_attempts(int attempt)
    {
        Assert.Equal(Max, RetryRules.Backoff(attempt, First, Max, 1.0));
        Assert.Equal(Max / 2, RetryRules.Backoff(attempt, First, Max, 0.0));
    }

    [Fact]
    public void Backoff_treats_attempts_below_one_as_the_first()
    {
        Assert.Equal(RetryRules.Backoff(1, First, Max, 0.3), RetryRules.Backoff(0, First, Max, 0.3));
        Assert.Equal(RetryRules.Backoff(1, First, Max, 0.3), RetryRules.Backoff(-5, First, Max, 0.3));
    }

    [Fact]
    public void The_budget_counts_from_the_first_failure_of_the_current_run()
    {
        var now = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        var budget = TimeSpan.FromMinutes(15);

        Assert.False(RetryRules.BudgetSpent(null, budget, now));
        Assert.False(RetryRules.BudgetSpent(now - TimeSpan.FromMinutes(14), budget, now));
        Assert.True(RetryRules.BudgetSpent(now - budget, budget, now));
        Assert.True(RetryRules.BudgetSpent(now - TimeSpan.FromHours(2), budget, now));
    }

    [Fact]
    public void Work_may_reschedule_itself_enough_times_to_outlast_its_budget_and_no_more()
    {
        var options = new RecoveryOptions();
        var waited = TimeSpan.Zero;
        for (var attempt = 1; attempt <= options.MaxMessageAttempts; attempt++)
        {
            waited += RetryRules.Backoff(attempt, options.FirstBackoff, options.MaxBackoff, random: 0.0);
        }

        Assert.True(waited >= options.RetryBudget, $"the shortest backoffs add up to {waited} only");
        Assert.InRange(options.MaxMessageAttempts, 1, 1000);
    }
}
