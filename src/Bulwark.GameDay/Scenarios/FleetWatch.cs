using Bulwark.GameDay.Api;

namespace Bulwark.GameDay.Scenarios;

/// <summary>Observations of the fleet through the API that several scenarios share.</summary>
internal static class FleetWatch
{
    /// <summary>Jobs running under a lease of the named worker (worker ids are <c>name-xxxxxxxx</c>).</summary>
    public static async Task<IReadOnlyList<JobRow>> RunningUnderAsync(BulwarkApi api, string workerName, CancellationToken cancellationToken) =>
        (await api.ListJobsAsync(Deployment.Queue, "running", cancellationToken))
            .Where(j => j.LeaseOwner?.StartsWith(workerName + "-", StringComparison.Ordinal) == true).ToArray();

    /// <summary>Enqueues <c>demo.sleep</c> jobs that keep worker slots busy, so a kill finds jobs in flight.</summary>
    public static async Task<IReadOnlyList<long>> EnqueueSleepersAsync(BulwarkApi api, int count, int ms, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
        {
            var (answer, id) = await api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.sleep", payload = new { ms } }, cancellationToken);
            ids.Add(id ?? throw new InvalidOperationException($"enqueue of demo.sleep refused: {answer.Status} {answer.Body}"));
        }

        return ids;
    }

    /// <summary>Waits until the victim's reclaim is visible: the worker is declared dead (detection) and none of its jobs still runs under it (response).</summary>
    public static async Task<(TimeSpan? Detected, TimeSpan? Reclaimed)> WatchReclaimAsync(
        Deployment d, IReadOnlyCollection<string> victims, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = d.Time.GetTimestamp();
        TimeSpan? detected = null;
        TimeSpan? reclaimed = null;
        await d.WaitUntilAsync(async ct =>
        {
            if (detected is null)
            {
                var workers = await d.Api.WorkersAsync(ct);
                if (victims.All(v => workers.Where(w => w.Name == v).All(w => w.State is "dead" or "stopped")))
                {
                    detected = d.Time.GetElapsedTime(start);
                    d.Mark("first detection", $"worker(s) {string.Join(", ", victims)} declared dead (GET /workers)");
                }
            }

            if (reclaimed is null)
            {
                var running = await d.Api.ListJobsAsync(Deployment.Queue, "running", ct);
                if (!running.Any(j => victims.Any(v => j.LeaseOwner?.StartsWith(v + "-", StringComparison.Ordinal) == true)))
                {
                    reclaimed = d.Time.GetElapsedTime(start);
                    d.Mark("automatic response", $"no job runs under {string.Join(", ", victims)} any more: its leases were reclaimed and its jobs made ready again");
                }
            }

            return detected is not null && reclaimed is not null;
        }, timeout, cancellationToken);
        return (detected, reclaimed);
    }
}
