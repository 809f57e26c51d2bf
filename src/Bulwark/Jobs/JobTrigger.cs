namespace Bulwark.Jobs;

/// <summary>What causes a transition in <see cref="JobTransitions"/>.</summary>
public enum JobTrigger
{
    /// <summary>Every job it depends on completed.</summary>
    DependenciesCompleted,
    /// <summary>A job it depends on ended Failed, DeadLetter or Cancelled.</summary>
    DependencyFailed,
    /// <summary>Its <c>run_at</c> came.</summary>
    Due,
    /// <summary>A worker leased it.</summary>
    Lease,
    /// <summary>The handler succeeded.</summary>
    Complete,
    /// <summary>An attempt failed and attempts remain: it waits for its backoff.</summary>
    Retry,
    /// <summary>The handler signalled a permanent failure.</summary>
    FailPermanently,
    /// <summary>An attempt failed and no attempts remain.</summary>
    AttemptsExhausted,
    /// <summary>The worker drained and gave the job back without charging the attempt.</summary>
    Release,
    /// <summary>The lease expired or the owner died and attempts remain.</summary>
    Reclaim,
    /// <summary>The lease expired or the owner died on the last attempt: quarantined as poison.</summary>
    Poison,
    /// <summary>Its lifetime (<c>expires_at</c>) passed.</summary>
    Expire,
    /// <summary>A user cancelled it.</summary>
    Cancel,
    /// <summary>An operator retried a finished job.</summary>
    ManualRetry,
}
