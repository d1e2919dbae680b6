namespace Storefront.DevStack.Tests;

public sealed class PidRecordTests
{
    private static readonly PidRecord Record = new(Pid: 100, PidStart: 5000, Owner: 42, OwnerStart: 4000);

    [Fact]
    public void A_record_reads_back_what_was_written() => Assert.Equal(Record, PidRecord.Parse(Record.ToString()));

    [Theory]
    [InlineData("")]
    [InlineData("100 5000 42")]
    [InlineData("100 5000 42 x")]
    [InlineData("-1 5000 42 4000")]
    public void A_damaged_record_reads_as_none(string text) => Assert.Null(PidRecord.Parse(text));

    [Fact]
    public void Without_a_record_there_is_nothing_to_clean() => Assert.Equal(StaleState.None, PidRecord.Inspect(null, _ => 1));

    [Fact]
    public void A_child_that_is_gone_leaves_only_a_stale_file() =>
        Assert.Equal(StaleState.None, PidRecord.Inspect(Record, pid => pid == 42 ? 4000 : null));

    [Fact]
    public void A_reused_pid_is_not_taken_for_the_child() =>
        Assert.Equal(StaleState.None, PidRecord.Inspect(Record, pid => pid == 100 ? 9999 : 4000));

    [Fact]
    public void A_live_child_of_a_dead_owner_is_an_orphan_to_stop() =>
        Assert.Equal(StaleState.Orphaned, PidRecord.Inspect(Record, pid => pid == 100 ? 5000 : null));

    [Fact]
    public void A_live_child_whose_owner_pid_was_reused_is_an_orphan_too() =>
        Assert.Equal(StaleState.Orphaned, PidRecord.Inspect(Record, pid => pid == 100 ? 5000 : 7777));

    [Fact]
    public void A_live_child_of_a_live_owner_is_in_use() =>
        Assert.Equal(StaleState.InUse, PidRecord.Inspect(Record, pid => pid == 100 ? 5000 : 4000));
}
