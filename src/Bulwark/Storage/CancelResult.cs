namespace Bulwark.Storage;

/// <summary>The answer to a cancel request.</summary>
public enum CancelResult
{
    /// <summary>It was waiting and is now Cancelled.</summary>
    Cancelled,
    /// <summary>It is running; its worker is told at the next heartbeat and it ends Cancelled.</summary>
    CancellationRequested,
    /// <summary>No such job.</summary>
    NotFound,
    /// <summary>It already reached a terminal state.</summary>
    AlreadyFinished,
}
