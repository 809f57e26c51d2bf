using System.Diagnostics;
using System.Globalization;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Cli.Bench;

/// <summary>
/// Two real <c>bulwark worker</c> processes: the victim holds the leases of long jobs, a second worker idles beside it.
/// After <c>kill -9</c> of the victim, the time until every one of its jobs runs on the other worker. The idle worker's
/// resident memory is read just before the kill. A second measure kills a victim holding 10 jobs of 2 s and times until
/// all of them have completed on a survivor with 10 slots: recovery must not run them one after another (docs/worker.md
/// "Suspects run alone"). With PostgreSQL both workers serve the run's own schema.
/// </summary>
internal sealed class RecoveryScenario : IBenchScenario
{
    private const int Jobs = 10;
    private const int ShortJobMs = 2000;

    public string Name => "recovery";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        // --quick shortens the lease so the suite's smoke test stays short; the full run uses the worker's defaults.
        string[] timing = settings.Quick ? ["--lease", "2s", "--heartbeat", "500ms"] : [];
        var deadAfter = settings.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(10);
        var recovery = new List<BenchRun>();
        var reaction = new List<BenchRun>();
        var memory = new List<BenchRun>();
        var completion = new List<BenchRun>();
        var completionAfterDeadline = new List<BenchRun>();
        for (var run = 0; run < settings.Runs; run++)
        {
            var result = await RunOnceAsync(settings, timing, deadAfter, cancellationToken);
            recovery.Add(BenchRun.Of(result.Seconds));
            reaction.Add(BenchRun.Of(result.AfterDeadlineMs));
            memory.Add(BenchRun.Of(result.IdleMb));
            var completed = await RunCompletionOnceAsync(settings, timing, deadAfter, cancellationToken);
            completion.Add(BenchRun.Of(completed.Seconds));
            completionAfterDeadline.Add(BenchRun.Of(completed.AfterDeadlineSeconds));
        }

        var label = settings.Quick ? "lease 2 s, heartbeat 0.5 s" : "default settings (lease 10 s, heartbeat 2 s)";
        var figures = new List<BenchFigure>
        {
            BenchFigure.From(Name, $"kill -9 → all {Jobs} jobs running elsewhere, {label}", "s", recovery),
            // The part the defaults leave to the code: from the moment the store may first declare the victim dead (its last
            // heartbeat + the dead-worker limit, which the worker sets to its lease) until its jobs run elsewhere.
            BenchFigure.From(Name, "victim's last heartbeat + dead-worker limit → all jobs running elsewhere", "ms", reaction),
            BenchFigure.From(Name, "idle worker process resident memory", "MB", memory),
            // Target with defaults: detection + 2 job lengths (about 14 s); run one after another it would be detection + 20 s.
            BenchFigure.From(Name, $"kill -9 → all {Jobs} jobs of {ShortJobMs / 1000} s completed on one survivor with {Jobs} slots, {label}", "s", completion),
            BenchFigure.From(Name, $"victim's last heartbeat + dead-worker limit → all {Jobs} jobs of {ShortJobMs / 1000} s completed", "s", completionAfterDeadline),
        };
        settings.Progress.WriteLine($"  recovery: {figures[0].Median:N2} s ({figures[1].Median:N0} ms after the victim's deadline); idle worker {figures[2].Median:N0} MB; "
            + $"{Jobs} jobs of {ShortJobMs / 1000} s completed {figures[3].Median:N2} s after the kill ({figures[4].Median:N2} s after the deadline)");
        return figures;
    }

    private static async Task<(double Seconds, double AfterDeadlineMs, double IdleMb)> RunOnceAsync(BenchSettings settings, string[] timing, TimeSpan deadAfter, CancellationToken cancellationToken)
    {
        var path = BenchHost.NewPath(settings, "recovery");
        var victimName = $"victim-{Guid.NewGuid():N}"[..20];
        var rescuerName = $"rescuer-{Guid.NewGuid():N}"[..20];
        Process? victim = null;
        Process? rescuer = null;
        try
        {
            await using var host = BenchHost.Create(settings, "recovery", existingPath: path);
            var jobs = Enumerable.Range(0, Jobs).Select(_ => host.Client.Build(BenchHost.Queue, "demo.sleep", """{"ms":600000}""")).ToArray();
            await host.Client.EnqueueManyAsync(jobs, cancellationToken);

            victim = BenchWorkerProcess.Start(settings, path, victimName, Jobs, timing);
            await BenchWorkerProcess.WaitUntilAsync(async () => (await Running(host)).Count == Jobs, "the victim to lease every job", [victim], cancellationToken);
            var victimId = (await Running(host))[0].LeaseOwner;

            rescuer = BenchWorkerProcess.Start(settings, path, rescuerName, Jobs, timing);
            await BenchWorkerProcess.WaitUntilAsync(async () => (await host.Store.ListWorkersAsync(cancellationToken))
                .Any(w => w.Registration.Name == rescuerName && w.State == WorkerState.Active), "the second worker to register", [rescuer], cancellationToken);
            var idleMb = ResidentMegabytes(rescuer.Id);

            var lastBeat = (await host.Store.ListWorkersAsync(cancellationToken)).First(w => w.Registration.Id == victimId).HeartbeatAt;
            var killedAt = DateTimeOffset.UtcNow;
            var killed = Stopwatch.GetTimestamp();
            victim.Kill();
            await BenchWorkerProcess.WaitUntilAsync(async () =>
            {
                var running = await Running(host);
                return running.Count == Jobs && running.All(j => j.LeaseOwner != victimId);
            }, "every job to run on the second worker", [rescuer], cancellationToken);
            var seconds = Stopwatch.GetElapsedTime(killed).TotalSeconds;
            // The victim may have beaten between the read and the kill; then this overstates the reaction by that beat's age.
            var deadline = lastBeat + deadAfter - killedAt;
            return (seconds, Math.Round((seconds - deadline.TotalSeconds) * 1000, 1), idleMb);
        }
        finally
        {
            await BenchWorkerProcess.KillAllAsync([victim, rescuer]);
            BenchHost.DeleteFiles(settings, path);
        }

        async Task<List<JobSnapshot>> Running(BenchHost host) =>
            [.. (await host.Store.ListJobsAsync(new JobListQuery(BenchHost.Queue, JobState.Running, Limit: 100), cancellationToken)).Items];
    }

    /// <summary>
    /// The victim leases 10 jobs of 2 s and is killed at once; a survivor with 10 slots starts right after (its start-up
    /// overlaps the dead-worker wait). Time from the kill until all 10 have completed there.
    /// </summary>
    private static async Task<(double Seconds, double AfterDeadlineSeconds)> RunCompletionOnceAsync(BenchSettings settings, string[] timing, TimeSpan deadAfter, CancellationToken cancellationToken)
    {
        var path = BenchHost.NewPath(settings, "recovery-completion");
        var victimName = $"victim-{Guid.NewGuid():N}"[..20];
        var survivorName = $"survivor-{Guid.NewGuid():N}"[..20];
        Process? victim = null;
        Process? survivor = null;
        try
        {
            await using var host = BenchHost.Create(settings, "recovery", existingPath: path);
            var jobs = Enumerable.Range(0, Jobs).Select(_ => host.Client.Build(BenchHost.Queue, "demo.sleep", $$"""{"ms":{{ShortJobMs}}}""")).ToArray();
            await host.Client.EnqueueManyAsync(jobs, cancellationToken);

            victim = BenchWorkerProcess.Start(settings, path, victimName, Jobs, timing);
            await BenchWorkerProcess.WaitUntilAsync(async () => (await Count(host, JobState.Running)) == Jobs, "the victim to lease every job", [victim], cancellationToken);
            var victimInfo = (await host.Store.ListWorkersAsync(cancellationToken)).First(w => w.Registration.Name == victimName);
            var killedAt = DateTimeOffset.UtcNow;
            var killed = Stopwatch.GetTimestamp();
            victim.Kill();
            if ((await Count(host, JobState.Completed)) > 0)
            {
                throw new InvalidOperationException($"The victim completed jobs before it was killed: the {ShortJobMs} ms jobs are too short for this machine.");
            }

            survivor = BenchWorkerProcess.Start(settings, path, survivorName, Jobs, timing);
            await BenchWorkerProcess.WaitUntilAsync(async () => (await Count(host, JobState.Completed)) == Jobs,
                $"all {Jobs} jobs to complete on the survivor", [survivor], cancellationToken, TimeSpan.FromSeconds(120));
            var seconds = Stopwatch.GetElapsedTime(killed).TotalSeconds;
            var deadline = victimInfo.HeartbeatAt + deadAfter - killedAt;
            return (Math.Round(seconds, 2), Math.Round(seconds - deadline.TotalSeconds, 2));
        }
        finally
        {
            await BenchWorkerProcess.KillAllAsync([victim, survivor]);
            BenchHost.DeleteFiles(settings, path);
        }

        async Task<long> Count(BenchHost host, JobState state) =>
            (await host.Store.GetQueuesAsync(cancellationToken)).FirstOrDefault(q => q.Queue == BenchHost.Queue)?[state] ?? 0;
    }

    private static double ResidentMegabytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var kb = line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            return Math.Round(kb / 1024, 1);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
