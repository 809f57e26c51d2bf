using Bulwark.Jobs;
using Bulwark.Server.Dashboard;
using Bulwark.Storage;

namespace Bulwark.Dashboard.Tests;

public sealed class ThroughputHistoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_first_sample_is_a_baseline_and_later_growth_lands_in_its_minute()
    {
        var history = new ThroughputHistory();

        history.Observe([Stats("q", completed: 1000, failed: 7, dead: 3)], Start);
        history.Observe([Stats("q", completed: 1004, failed: 7, dead: 4)], Start.AddSeconds(10));
        history.Observe([Stats("q", completed: 1010, failed: 8, dead: 4)], Start.AddMinutes(1));

        var (completed, failed) = history.Series("q", Start.AddMinutes(1));
        Assert.Equal(4, completed[^2]);
        Assert.Equal(1, failed[^2]);
        Assert.Equal(6, completed[^1]);
        Assert.Equal(1, failed[^1]);
        Assert.Equal(10, completed.Sum());
    }

    [Fact]
    public void A_shrinking_count_adds_nothing_and_growth_after_it_counts_from_the_new_level()
    {
        var history = new ThroughputHistory();

        history.Observe([Stats("q", completed: 50, failed: 0, dead: 20)], Start);
        history.Observe([Stats("q", completed: 10, failed: 0, dead: 0)], Start.AddSeconds(10)); // purged; dead letters retried
        history.Observe([Stats("q", completed: 12, failed: 0, dead: 1)], Start.AddSeconds(20));

        var (completed, failed) = history.Series("q", Start.AddSeconds(20));
        Assert.Equal(2, completed.Sum());
        Assert.Equal(1, failed.Sum());
    }

    [Fact]
    public void Minutes_older_than_an_hour_fall_out_of_the_series()
    {
        var history = new ThroughputHistory();
        history.Observe([Stats("q", completed: 0, failed: 0, dead: 0)], Start);
        history.Observe([Stats("q", completed: 5, failed: 0, dead: 0)], Start.AddSeconds(30));

        Assert.Equal(5, history.Series("q", Start.AddMinutes(59)).Completed.Sum());
        Assert.Equal(0, history.Series("q", Start.AddMinutes(60)).Completed.Sum());
        Assert.Equal(0, history.Series("unknown", Start).Completed.Sum());
    }

    private static QueueStats Stats(string queue, long completed, long failed, long dead) => new()
    {
        Queue = queue,
        Counts = JobStates.All.ToDictionary(s => s, s => s switch
        {
            JobState.Completed => completed,
            JobState.Failed => failed,
            JobState.DeadLetter => dead,
            _ => 0L,
        }),
    };
}
