namespace Bulwark.Storage;

/// <summary>The answer to a fenced write (complete, fail, progress). Distinct codes, so that a refusal says why.</summary>
public enum FenceResult
{
    /// <summary>Accepted.</summary>
    Ok = 0,
    /// <summary>No job with that id.</summary>
    NotFound = 1,
    /// <summary>The job is no longer running (finished, reclaimed and waiting, cancelled).</summary>
    NotRunning = 2,
    /// <summary>The job runs under a newer lease: the caller's token is stale (another worker owns it now).</summary>
    LeaseLost = 3,
}
