using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>
/// Which jobs run alone (docs/worker.md "Suspects run alone"). Most crashes are OOM kills, deploys and lost nodes, so
/// one crash proves nothing: the dead worker's jobs run again at full parallelism. A job is a suspect once it was
/// present at more than one crash, or when its last attempt follows a crash (a bystander on its last attempt must not
/// be quarantined for a neighbour's crash). The crash history is the store's lost-lease count, handed out with the lease.
/// </summary>
public static class SuspectRule
{
    /// <summary>True when an attempt numbered <paramref name="attempt"/> of a job with this crash history must run alone.</summary>
    /// <param name="lostLeases">Earlier attempts lost with their worker (<see cref="LeasedJob.LostLeases"/>).</param>
    /// <param name="attempt">The attempt about to run (1 for the first).</param>
    /// <param name="maxAttempts">Attempts allowed in all.</param>
    public static bool IsSuspect(int lostLeases, int attempt, int maxAttempts) => lostLeases >= 2 || (lostLeases >= 1 && attempt >= maxAttempts);

    /// <summary>True when this leased attempt must run alone.</summary>
    public static bool IsSuspect(LeasedJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return IsSuspect(job.LostLeases, job.Attempt, job.MaxAttempts);
    }

    /// <summary>Why an attempt is a suspect, in words for logs and <c>explain</c>.</summary>
    public static string Why(int lostLeases, int attempt, int maxAttempts) => lostLeases >= 2
        ? $"it was running on {lostLeases} workers that died"
        : $"its worker died on an earlier attempt and attempt {attempt} of {maxAttempts} is its last";
}
