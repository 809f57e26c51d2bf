using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>
/// Which jobs run alone (docs/worker.md "Suspects run alone"). Most crashes are OOM kills, deploys and lost nodes, so
/// one crash proves nothing: the dead worker's jobs run again at full parallelism. A job is a suspect once it was
/// present at more than one crash, or when its last attempt follows a crash (a bystander on its last attempt must not
/// be quarantined for a neighbour's crash). The crash history is the store's lost-lease count, handed out with the lease.
/// </summary>
internal static class Suspects
{
    public static bool IsSuspect(LeasedJob job) => job.LostLeases >= 2 || (job.LostLeases >= 1 && job.Attempt >= job.MaxAttempts);

    /// <summary>Why <paramref name="job"/> is a suspect, for logs and <c>explain</c>.</summary>
    public static string Why(int lostLeases, int attempt, int maxAttempts) => lostLeases >= 2
        ? $"it was running on {lostLeases} workers that died"
        : $"its worker died on an earlier attempt and attempt {attempt} of {maxAttempts} is its last";
}
