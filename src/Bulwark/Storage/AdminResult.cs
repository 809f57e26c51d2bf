namespace Bulwark.Storage;

/// <summary>The answer to a single-job admin action such as retry.</summary>
public enum AdminResult
{
    /// <summary>Done.</summary>
    Ok,
    /// <summary>No such job.</summary>
    NotFound,
    /// <summary>The job is not in a state the action applies to (for retry: Failed, DeadLetter or Cancelled).</summary>
    InvalidState,
}
