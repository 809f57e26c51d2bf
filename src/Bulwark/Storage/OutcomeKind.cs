namespace Bulwark.Storage;

/// <summary>What a worker reports at the end of an attempt. The worker decides which (retry or dead letter) from the job's policy; the store applies it, fenced.</summary>
public enum OutcomeKind
{
    /// <summary>Running → Completed.</summary>
    Complete,
    /// <summary>Running → Scheduled, due after the retry delay (store clock).</summary>
    Retry,
    /// <summary>Running → Failed (permanent error).</summary>
    Fail,
    /// <summary>Running → DeadLetter (attempts exhausted).</summary>
    DeadLetter,
    /// <summary>Running → Ready without charging the attempt (graceful drain).</summary>
    Release,
    /// <summary>Running → Cancelled (the user asked, the handler stopped).</summary>
    Cancelled,
}
