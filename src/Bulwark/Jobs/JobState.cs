namespace Bulwark.Jobs;

/// <summary>The lifecycle state of a job. <see cref="JobTransitions"/> lists the legal moves between them.</summary>
public enum JobState
{
    /// <summary>Waiting for the jobs it depends on to complete.</summary>
    Pending = 0,
    /// <summary>Waiting for its <c>run_at</c> (a delay, a schedule or a retry backoff).</summary>
    Scheduled = 1,
    /// <summary>May be leased by a worker now.</summary>
    Ready = 2,
    /// <summary>Leased by a worker that is running it.</summary>
    Running = 3,
    /// <summary>Terminal: the handler succeeded.</summary>
    Completed = 4,
    /// <summary>Terminal: the handler signalled a permanent error; not retried.</summary>
    Failed = 5,
    /// <summary>Terminal: attempts exhausted, lifetime passed, a dependency cannot succeed, or poison.</summary>
    DeadLetter = 6,
    /// <summary>Terminal: cancelled by a user.</summary>
    Cancelled = 7,
}
