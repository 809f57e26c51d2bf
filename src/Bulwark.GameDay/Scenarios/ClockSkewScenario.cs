using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>
/// 12 clock-skew: workers whose wall clocks are 1 h behind and 1 h ahead (hidden <c>--clock-offset</c>) beside one with
/// a true clock, under steady load with jobs that outlive a lease, execution timeouts and retries with backoff.
/// </summary>
internal sealed class ClockSkewScenario : IScenario
{
    private const int OrderJobs = 12;
    private static readonly TimeSpan ExecutionTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(4);

    public string Name => "clock-skew";

    // Across machines (PostgreSQL) a skewed worker is the real case: the database's clock judges every lease.
    public bool RunsOnPostgres => true;

    public string Injected => "worker wall clocks shifted by -1 h and +1 h (hidden --clock-offset) beside a worker with a true clock, under steady load with jobs longer than a lease, timeouts and backoff retries";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);

        // Order: jobs waiting before the skewed worker starts, so its leases alone decide the order (one slot).
        var orderPath = Path.Combine(d.Directory, "order.txt");
        var expectedOrder = new List<(long Id, string Line, int Priority)>();
        for (var i = 0; i < OrderJobs; i++)
        {
            var priority = i % 3 == 2 ? 9 : 5;
            var line = $"order-{i}-p{priority}";
            expectedOrder.Add((await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.append", payload = new { path = orderPath, line }, priority }, cancellationToken), line, priority));
        }

        var behind = d.StartWorker("w-behind", 1, "--clock-offset=-1h");
        await d.WaitForWorkerAsync(behind, cancellationToken);
        d.Inject($"w-behind (pid {behind.ProcessId}) started with its wall clock 1 h behind, one slot, {OrderJobs} jobs of priorities 5 and 9 waiting");
        var ordered = await d.WaitUntilAsync(_ => Task.FromResult(ReadLines(orderPath).Count >= OrderJobs), TimeSpan.FromSeconds(30), cancellationToken);
        var orderLines = ReadLines(orderPath);
        var expectedLines = expectedOrder.OrderByDescending(j => j.Priority).ThenBy(j => j.Id).Select(j => j.Line).ToArray();

        var ahead = d.StartWorker("w-ahead", 4, "--clock-offset=1h");
        var normal = d.StartWorker("w1", 4);
        await d.WaitForWorkerAsync(ahead, cancellationToken);
        await d.WaitForWorkerAsync(normal, cancellationToken);
        d.Mark("fleet", "w-ahead (clock 1 h ahead, 4 slots) and w1 (true clock, 4 slots) joined w-behind");

        var load = d.NewLoad();
        var loading = load.RunAsync(d.Quick ? 200 : 2000, 40, cancellationToken);
        // Each outlives the 3 s lease: only heartbeats, judged by the store's clock, keep it with its worker.
        var sleepers = await FleetWatch.EnqueueSleepersAsync(d.Api, 6, 5000, cancellationToken);
        var timeouts = new List<long>();
        var retries = new List<long>();
        var enqueuedAfter = new Dictionary<long, DateTimeOffset>(); // a retry's first attempt cannot fail before its enqueue was sent
        for (var i = 0; i < 4; i++)
        {
            timeouts.Add(await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.sleep", payload = new { ms = 60000 }, timeout = "2s", max_attempts = 1 }, cancellationToken));
            var sent = d.Time.GetUtcNow();
            retries.Add(await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.fail", payload = new { times = 1, category = "temporary" }, backoff = "fixed(4s)", max_attempts = 2 }, cancellationToken));
            enqueuedAfter[retries[^1]] = sent;
        }

        var owners = new HashSet<string>(StringComparer.Ordinal);
        var waits = await WatchRetriesAsync(d, enqueuedAfter, owners, cancellationToken);
        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken, sleepers);
        var timed = new List<(long Id, string? Worker, TimeSpan? Took)>();
        foreach (var id in timeouts)
        {
            var detail = await d.Api.GetJobAsync(id, cancellationToken);
            var error = detail.Errors.FirstOrDefault(e => e.Category == "timeout");
            timed.Add((id, error?.WorkerId, error?.StartedAt is { } s ? error.EndedAt - s : null));
        }

        var crashRecords = new List<long>();
        foreach (var id in sleepers.Concat(retries))
        {
            if ((await d.Api.GetJobAsync(id, cancellationToken)).Errors.Any(e => e.Category == "crash"))
            {
                crashRecords.Add(id);
            }
        }

        var special = timeouts.Concat(retries).ToHashSet();
        var reruns = m.Jobs.Where(j => j.State == "completed" && !special.Contains(j.Id) && j.Attempt != 1).Select(j => j.Id).ToArray();
        var workers = new[] { behind, ahead, normal };
        var leaseLines = workers.Sum(w => Count(w.Output, "lost (reclaimed") + Count(w.Output, "refused ("));
        var badTimeouts = timed.Where(t => t.Took is not { } took || took < ExecutionTimeout || took > ExecutionTimeout + TimeSpan.FromSeconds(2)).ToArray();
        // Early only if even the longest wait the reads allow is short of the backoff; late if even the shortest is 4 s over.
        var badWaits = waits.Where(w => w.Wait is not { } wait || wait.AtMost < Backoff || wait.AtLeast > Backoff + TimeSpan.FromSeconds(4)).ToArray();

        return new ScenarioResult(m.Impact,
        [
            Check.That("order within a priority follows sequence ids (the worker 1 h behind, one slot)",
                ordered && orderLines.SequenceEqual(expectedLines),
                $"ran {string.Join(" ", orderLines)}; expected {string.Join(" ", expectedLines)}"),
            Check.That("no lease is stolen or lost because of the skew",
                reruns.Length == 0 && crashRecords.Count == 0 && leaseLines == 0 && workers.All(w => !w.HasExited) && owners.IsSupersetOf(["w-ahead", "w-behind"]),
                $"{m.Impact.Completed} completed; workers seen holding running jobs: {string.Join(", ", owners.Order(StringComparer.Ordinal))}; completed on a later attempt: {(reruns.Length == 0 ? "none" : Promises.Ids(reruns))}; " +
                $"crash records on the long jobs and retries: {(crashRecords.Count == 0 ? "none" : Promises.Ids(crashRecords))}; lease-lost or refused-outcome log lines: {leaseLines}; " +
                $"workers {string.Join(", ", workers.Select(w => $"{w.Name} {(w.HasExited ? "EXITED" : "up")}"))}"),
            Promises.NoneLost(m),
            Promises.NoDuplicates(m),
            Check.That($"execution timeouts measure true durations ({Promises.Seconds(ExecutionTimeout)} timeout)",
                badTimeouts.Length == 0,
                string.Join("; ", timed.Select(t => $"job {t.Id} on {Worker(t.Worker)}: cancelled after {(t.Took is { } took ? Promises.Seconds(took) : "no timeout record")}"))),
            Check.That($"backoff waits measure true durations (fixed {Promises.Seconds(Backoff)})",
                badWaits.Length == 0,
                string.Join("; ", waits.Select(w => $"job {w.Id}: retry leased {(w.Wait is { } wait ? $"{Promises.Seconds(wait.AtLeast)}–{Promises.Seconds(wait.AtMost)}" : "not seen (30 s)")} after the failure"))),
        ]);
    }

    /// <summary>
    /// Watches each retried job from outside (true time) and brackets its wait: the failure happened after the last read
    /// that still saw attempt 1 unfinished and before the first read that saw it scheduled; the retry's lease after the
    /// last read still showing it scheduled and before the first showing attempt 2. A one-sided reading (time of first
    /// sight to time of first sight) would be off by up to one polling pass, either way. Also notes which workers hold
    /// running jobs meanwhile (into <paramref name="owners"/>).
    /// </summary>
    private static async Task<IReadOnlyList<(long Id, RetryWait? Wait)>> WatchRetriesAsync(Deployment d, IReadOnlyDictionary<long, DateTimeOffset> enqueuedAfter, HashSet<string> owners, CancellationToken cancellationToken)
    {
        var watches = enqueuedAfter.ToDictionary(e => e.Key, e => new RetryWatch(e.Value));
        await d.WaitUntilAsync(async ct =>
        {
            var owning = d.Api.ListJobsAsync(Deployment.Queue, "running", ct);
            // In parallel, each read stamped before it was sent and after it came back: the bracket is as tight as one read.
            await Task.WhenAll(watches.Where(w => w.Value.Wait is null).Select(async w =>
            {
                var sent = d.Time.GetUtcNow();
                var job = (await d.Api.GetJobAsync(w.Key, ct)).Job;
                w.Value.Saw(job.State, job.Attempt, sent, d.Time.GetUtcNow());
            }));
            foreach (var running in await owning)
            {
                owners.Add(Worker(running.LeaseOwner));
            }

            return watches.Values.All(w => w.Wait is not null);
        }, TimeSpan.FromSeconds(30), cancellationToken);
        return [.. watches.Select(w => (w.Key, w.Value.Wait))];
    }

    /// <summary>The shortest and longest wait the reads allow between the first attempt's failure and the retry's lease.</summary>
    private sealed record RetryWait(TimeSpan AtLeast, TimeSpan AtMost);

    private sealed class RetryWatch(DateTimeOffset enqueuedAfter)
    {
        private DateTimeOffset _lastBeforeFailure = enqueuedAfter; // sent time of the last read still showing attempt 1 not yet failed
        private DateTimeOffset? _failedBy; // return time of the first read showing it scheduled for its retry
        private DateTimeOffset _lastWaiting; // sent time of the last read still showing the retry waiting (scheduled or ready)

        public RetryWait? Wait { get; private set; }

        public void Saw(string state, int attempt, DateTimeOffset sent, DateTimeOffset back)
        {
            if (attempt >= 2)
            {
                if (_failedBy is { } failedBy)
                {
                    Wait = new RetryWait(_lastWaiting - failedBy, back - _lastBeforeFailure);
                }
            }
            else if (_failedBy is null && state != "scheduled")
            {
                _lastBeforeFailure = sent;
            }
            else
            {
                _failedBy ??= back;
                _lastWaiting = sent;
            }
        }
    }

    private static async Task<long> EnqueueAsync(Deployment d, object job, CancellationToken cancellationToken)
    {
        var (answer, id) = await d.Api.EnqueueAsync(job, cancellationToken);
        return id ?? throw new InvalidOperationException($"enqueue refused: {answer.Status} {answer.Body}");
    }

    private static string Worker(string? workerId) => workerId is null ? "?" : workerId[..Math.Max(0, workerId.LastIndexOf('-'))];

    /// <summary>The lines so far; the worker appends while we read, so the file is shared and a busy moment reads as nothing yet.</summary>
    private static IReadOnlyList<string> ReadLines(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
