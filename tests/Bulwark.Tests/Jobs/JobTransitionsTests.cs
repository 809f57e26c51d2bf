using Bulwark.Jobs;

namespace Bulwark.Tests.Jobs;

public sealed class JobTransitionsTests
{
    [Fact]
    public void The_table_has_no_duplicate_edges()
    {
        Assert.Equal(JobTransitions.All.Count, JobTransitions.All.Distinct().Count());
    }

    [Fact]
    public void No_edge_stays_in_place()
    {
        Assert.DoesNotContain(JobTransitions.All, t => t.From == t.To);
    }

    [Fact]
    public void Terminal_states_are_left_only_by_a_manual_retry_to_ready_or_to_pending_behind_a_live_dependency()
    {
        var leaving = JobTransitions.All.Where(t => t.From.IsTerminal()).ToList();

        Assert.All(leaving, t =>
        {
            Assert.Equal(JobTrigger.ManualRetry, t.Trigger);
            Assert.Contains(t.To, new[] { JobState.Ready, JobState.Pending });
        });
        Assert.DoesNotContain(leaving, t => t.From == JobState.Completed);
        Assert.All(JobTransitions.All.Where(t => t.Trigger == JobTrigger.ManualRetry), t => Assert.True(t.From.IsTerminal()));
    }

    [Fact]
    public void Every_non_terminal_state_has_a_path_to_a_terminal_state()
    {
        foreach (var start in JobStates.All.Where(s => !s.IsTerminal()))
        {
            var seen = new HashSet<JobState> { start };
            var frontier = new Queue<JobState>([start]);
            while (frontier.Count > 0)
            {
                var state = frontier.Dequeue();
                foreach (var next in JobTransitions.All.Where(t => t.From == state).Select(t => t.To))
                {
                    if (seen.Add(next))
                    {
                        frontier.Enqueue(next);
                    }
                }
            }

            Assert.True(seen.Any(s => s.IsTerminal()), $"{start} cannot reach a terminal state");
            Assert.Contains(JobState.Completed, seen);
        }
    }

    [Fact]
    public void Every_waiting_state_can_be_cancelled_and_expired_directly()
    {
        foreach (var state in JobStates.All.Where(s => !s.IsTerminal()))
        {
            Assert.True(JobTransitions.IsAllowed(state, JobState.Cancelled, JobTrigger.Cancel), $"{state} cannot be cancelled");
            Assert.True(JobTransitions.IsAllowed(state, JobState.DeadLetter, JobTrigger.Expire), $"{state} cannot expire");
        }
    }

    [Fact]
    public void Every_trigger_appears_in_the_table()
    {
        Assert.All(Enum.GetValues<JobTrigger>(), trigger => Assert.NotEmpty(JobTransitions.SourcesOf(trigger)));
    }

    [Fact]
    public void Only_a_lease_enters_running()
    {
        var entering = Assert.Single(JobTransitions.All, t => t.To == JobState.Running);

        Assert.Equal((JobState.Ready, JobTrigger.Lease), (entering.From, entering.Trigger));
    }

    [Fact]
    public void EnsureAllowed_accepts_table_edges_and_names_the_refused_move()
    {
        foreach (var t in JobTransitions.All)
        {
            JobTransitions.EnsureAllowed(t.From, t.To, t.Trigger);
            Assert.True(JobTransitions.IsAllowed(t.From, t.To));
        }

        var ex = Assert.Throws<InvalidOperationException>(() => JobTransitions.EnsureAllowed(JobState.Completed, JobState.Running, JobTrigger.Lease));
        Assert.Contains("completed", ex.Message, StringComparison.Ordinal);
        Assert.Contains("running", ex.Message, StringComparison.Ordinal);
        Assert.False(JobTransitions.IsAllowed(JobState.Ready, JobState.Completed));
        Assert.False(JobTransitions.IsAllowed(JobState.Running, JobState.Ready, JobTrigger.Complete));
    }
}
