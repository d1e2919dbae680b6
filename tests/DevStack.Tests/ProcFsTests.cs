namespace Storefront.DevStack.Tests;

public sealed class ProcFsTests
{
    private const string Tail = " 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";

    [Fact]
    public void The_start_time_is_field_22() => Assert.Equal(123456, ProcFs.ParseStartTime("77 (postgres) S" + Tail));

    [Fact]
    public void A_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() =>
        Assert.Equal(123456, ProcFs.ParseStartTime("77 (a) (b c) S" + Tail));

    [Fact]
    public void A_zombie_counts_as_gone() => Assert.Null(ProcFs.ParseStartTime("77 (postgres) Z" + Tail));

    [Fact]
    public void This_process_has_a_start_time() => Assert.NotNull(ProcFs.StartTime(Environment.ProcessId));
}
