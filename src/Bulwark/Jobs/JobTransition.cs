namespace Bulwark.Jobs;

/// <summary>One legal edge of the job state machine.</summary>
/// <param name="From">The state the job must be in.</param>
/// <param name="To">The state it moves to.</param>
/// <param name="Trigger">What causes the move.</param>
public sealed record JobTransition(JobState From, JobState To, JobTrigger Trigger);
