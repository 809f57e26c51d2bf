using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Load;

namespace Bulwark.GameDay.Tests;

public sealed class ExecutionTallyTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Ack[] Acks = [new(1, 101, At), new(2, 102, At), new(3, 103, At)];

    [Fact]
    public void Every_acknowledged_job_completed_once_is_neither_lost_nor_duplicated()
    {
        var tally = ExecutionTally.From(Acks, ["1", "2", "3"], new HashSet<long> { 101, 102, 103 });

        Assert.Empty(tally.LostIds);
        Assert.Empty(tally.DuplicatedIds);
        Assert.Empty(tally.NeverExecutedIds);
        Assert.Empty(tally.UnacknowledgedLines);
    }

    [Fact]
    public void An_acknowledged_job_the_store_never_completed_is_lost()
    {
        var tally = ExecutionTally.From(Acks, ["1", "2", "3"], new HashSet<long> { 101, 103 });

        Assert.Equal([102L], tally.LostIds);
    }

    [Fact]
    public void A_line_that_appears_twice_is_a_duplicate_execution_of_its_job()
    {
        var tally = ExecutionTally.From(Acks, ["1", "2", "2", "3", "2"], new HashSet<long> { 101, 102, 103 });

        Assert.Equal(3, tally.DuplicatedIds[102]);
        Assert.Single(tally.DuplicatedIds);
    }

    [Fact]
    public void An_acknowledged_job_without_a_line_never_executed()
    {
        var tally = ExecutionTally.From(Acks, ["1", "3"], new HashSet<long> { 101, 102, 103 });

        Assert.Equal([102L], tally.NeverExecutedIds);
    }

    [Fact]
    public void Lines_of_unacknowledged_enqueues_are_counted_apart_and_blank_lines_ignored()
    {
        var tally = ExecutionTally.From(Acks, ["1", "", "2", "3", "77", "garbage"], new HashSet<long> { 101, 102, 103 });

        Assert.Equal(["77", "garbage"], tally.UnacknowledgedLines);
        Assert.Empty(tally.DuplicatedIds);
    }

    [Fact]
    public void A_missing_append_file_reads_as_no_executions()
    {
        Assert.Empty(ExecutionTally.ReadLines(Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.log")));
    }
}
