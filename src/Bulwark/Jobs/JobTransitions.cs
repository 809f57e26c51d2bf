namespace Bulwark.Jobs;

/// <summary>
/// The one table of legal job transitions. Stores implement each edge as one guarded statement,
/// the contract suite proves they accept exactly these, and docs/state-machine.md is checked against it.
/// </summary>
public static class JobTransitions
{
    /// <summary>Every legal (from, to, trigger).</summary>
    public static IReadOnlyList<JobTransition> All { get; } =
    [
        new(JobState.Pending, JobState.Ready, JobTrigger.DependenciesCompleted),
        new(JobState.Pending, JobState.Scheduled, JobTrigger.DependenciesCompleted),
        new(JobState.Pending, JobState.DeadLetter, JobTrigger.DependencyFailed),
        new(JobState.Pending, JobState.DeadLetter, JobTrigger.Expire),
        new(JobState.Pending, JobState.Cancelled, JobTrigger.Cancel),

        new(JobState.Scheduled, JobState.Ready, JobTrigger.Due),
        new(JobState.Scheduled, JobState.DeadLetter, JobTrigger.Expire),
        new(JobState.Scheduled, JobState.Cancelled, JobTrigger.Cancel),

        new(JobState.Ready, JobState.Running, JobTrigger.Lease),
        new(JobState.Ready, JobState.DeadLetter, JobTrigger.Expire),
        new(JobState.Ready, JobState.Cancelled, JobTrigger.Cancel),

        new(JobState.Running, JobState.Completed, JobTrigger.Complete),
        new(JobState.Running, JobState.Scheduled, JobTrigger.Retry),
        new(JobState.Running, JobState.Failed, JobTrigger.FailPermanently),
        new(JobState.Running, JobState.DeadLetter, JobTrigger.AttemptsExhausted),
        new(JobState.Running, JobState.Ready, JobTrigger.Release),
        new(JobState.Running, JobState.Ready, JobTrigger.Reclaim),
        new(JobState.Running, JobState.DeadLetter, JobTrigger.Poison),
        new(JobState.Running, JobState.DeadLetter, JobTrigger.Expire),
        new(JobState.Running, JobState.Cancelled, JobTrigger.Cancel),

        new(JobState.Failed, JobState.Ready, JobTrigger.ManualRetry),
        new(JobState.DeadLetter, JobState.Ready, JobTrigger.ManualRetry),
        new(JobState.Cancelled, JobState.Ready, JobTrigger.ManualRetry),
        // A retried job whose dependency is live again (retried itself) waits for it, as at enqueue. A Failed job ran, so
        // its dependencies had all completed: it has no such edge.
        new(JobState.DeadLetter, JobState.Pending, JobTrigger.ManualRetry),
        new(JobState.Cancelled, JobState.Pending, JobTrigger.ManualRetry),
    ];

    private static readonly HashSet<(JobState, JobState)> Edges = All.Select(t => (t.From, t.To)).ToHashSet();

    /// <summary>True when some trigger moves a job from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool IsAllowed(JobState from, JobState to) => Edges.Contains((from, to));

    /// <summary>True when <paramref name="trigger"/> may move a job from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool IsAllowed(JobState from, JobState to, JobTrigger trigger) =>
        All.Any(t => t.From == from && t.To == to && t.Trigger == trigger);

    /// <summary>The states a trigger may move a job out of.</summary>
    public static IReadOnlyList<JobState> SourcesOf(JobTrigger trigger) =>
        All.Where(t => t.Trigger == trigger).Select(t => t.From).Distinct().ToArray();

    /// <summary>Throws <see cref="InvalidOperationException"/> when the edge is not in the table.</summary>
    public static void EnsureAllowed(JobState from, JobState to, JobTrigger trigger)
    {
        if (!IsAllowed(from, to, trigger))
        {
            throw new InvalidOperationException($"A job cannot move from {from.ToName()} to {to.ToName()} on {trigger}.");
        }
    }
}
