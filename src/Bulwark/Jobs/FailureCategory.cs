namespace Bulwark.Jobs;

/// <summary>Why an attempt did not complete. Decides whether and how the job is retried (DESIGN.md §2).</summary>
public enum FailureCategory
{
    /// <summary>A handler exception: retried with backoff.</summary>
    Temporary = 0,
    /// <summary>The handler signalled a permanent error, or the payload cannot be read: no retry, <see cref="JobState.Failed"/>.</summary>
    Permanent = 1,
    /// <summary>A bug-like exception (<see cref="NullReferenceException"/> and friends): retried by default.</summary>
    System = 2,
    /// <summary>The execution timeout passed: retried.</summary>
    Timeout = 3,
    /// <summary>The lease expired or its owner was declared dead: retried; quarantined as poison after the last attempt.</summary>
    Crash = 4,
    /// <summary>Interrupted by a graceful drain: released, not counted against attempts.</summary>
    Shutdown = 5,
    /// <summary>A job it depends on can no longer complete: dead letter.</summary>
    Dependency = 6,
    /// <summary>Its lifetime (<c>expires_at</c>) passed: dead letter.</summary>
    Expired = 7,
    /// <summary>Cancelled while running.</summary>
    Cancelled = 8,
}
