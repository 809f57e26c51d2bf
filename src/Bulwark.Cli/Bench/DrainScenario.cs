using System.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Cli.Bench;

/// <summary>
/// N waiting no-op jobs drained by one in-process worker runtime (concurrency 50), and by two real <c>bulwark worker</c>
/// processes (concurrency 50 each): jobs/s from the workers' start to the last durable completion. The one-process drain is
/// also used by the backlog scenario with a deeper queue and a fixed sample.
/// </summary>
internal sealed class DrainScenario : IBenchScenario
{
    private const int Concurrency = 50;

    public string Name => "drain";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var jobs = settings.Quick ? 5_000 : 100_000;
        var runs = new List<BenchRun>();
        for (var run = 0; run < settings.Runs; run++)
        {
            await using var host = BenchHost.Create(settings, "drain");
            await host.SeedAsync(jobs, cancellationToken);
            runs.Add(await DrainAsync(host, jobs, cancellationToken));
        }

        var figure = BenchFigure.From(Name, $"{jobs:N0} waiting, 1 process, concurrency {Concurrency}", "jobs/s", runs);
        settings.Progress.WriteLine($"  drain: {figure.Median:N0} jobs/s");

        var twoRuns = new List<BenchRun>();
        for (var run = 0; run < settings.Runs; run++)
        {
            twoRuns.Add(await DrainWithProcessesAsync(settings, jobs, 2, cancellationToken));
        }

        var two = BenchFigure.From(Name, $"{jobs:N0} waiting, 2 processes, concurrency {Concurrency} each", "jobs/s", twoRuns);
        settings.Progress.WriteLine($"  drain, 2 processes: {two.Median:N0} jobs/s");
        return [figure, two];
    }

    /// <summary>Starts the worker and times <paramref name="count"/> completions; stops the worker afterwards.</summary>
    public static async Task<BenchRun> DrainAsync(BenchHost host, long count, CancellationToken cancellationToken)
    {
        host.Store.ResetCounts();
        var started = Stopwatch.GetTimestamp();
        await host.StartWorkerAsync(cancellationToken);
        var done = await host.WaitForCompletedAsync(count, TimeSpan.FromMinutes(30), cancellationToken);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var counts = new Dictionary<string, double>(host.Store.Counts(), StringComparer.Ordinal) { ["jobs"] = host.Store.Completed };
        await host.StopWorkerAsync();
        if (!done)
        {
            throw new InvalidOperationException($"The worker completed only {host.Store.Completed:N0} of {count:N0} jobs within 30 minutes.");
        }

        return new BenchRun(count / seconds, counts);
    }

    /// <summary>
    /// <paramref name="processes"/> <c>bulwark worker</c> processes (default settings, concurrency 50) drain <paramref name="count"/>
    /// waiting <c>demo.noop</c> jobs. The queue is paused while they start, so process start-up is not timed; the clock runs
    /// from the resume (the workers find the work at their next poll, at most 250 ms later) until no job is ready or running.
    /// </summary>
    private static async Task<BenchRun> DrainWithProcessesAsync(BenchSettings settings, long count, int processes, CancellationToken cancellationToken)
    {
        var path = BenchHost.NewPath(settings, "drain2");
        var workers = new List<System.Diagnostics.Process>();
        try
        {
            await using var host = BenchHost.Create(settings, "drain2", existingPath: path);
            await host.Store.SetQueuePausedAsync(BenchHost.Queue, paused: true, cancellationToken);
            await host.SeedAsync(count, "demo.noop", cancellationToken);
            var names = Enumerable.Range(0, processes).Select(i => $"drain{i}-{Guid.NewGuid():N}"[..16]).ToArray();
            workers.AddRange(names.Select(name => BenchWorkerProcess.Start(settings, path, name, Concurrency)));
            await BenchWorkerProcess.WaitUntilAsync(async () => (await host.Store.ListWorkersAsync(cancellationToken))
                .Count(w => names.Contains(w.Registration.Name) && w.State == WorkerState.Active) == processes, "the drain workers to register", workers, cancellationToken);

            var newest = (await host.Store.ListJobsAsync(new JobListQuery(BenchHost.Queue, Limit: 1), cancellationToken)).Items.Single().Id;
            var started = Stopwatch.GetTimestamp();
            await host.Store.SetQueuePausedAsync(BenchHost.Queue, paused: false, cancellationToken);
            // The poll must not take the CPU the workers are measured on. Jobs are leased oldest first, so until the newest
            // has finished only its row is read (a primary-key lookup); then two one-row reads confirm that nothing is
            // ready or running. Listing the ready jobs of a full backlog every 10 ms took most of a core on PostgreSQL.
            await BenchWorkerProcess.WaitUntilAsync(async () => (await host.Store.GetJobAsync(newest, cancellationToken))?.State.IsTerminal() != false, "the newest job to finish", workers, cancellationToken, TimeSpan.FromMinutes(30));
            await BenchWorkerProcess.WaitUntilAsync(async () => !await AnyAsync(JobState.Ready) && !await AnyAsync(JobState.Running), $"{count:N0} jobs to be drained", workers, cancellationToken, TimeSpan.FromMinutes(30));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

            var completed = (await host.Store.GetQueuesAsync(cancellationToken)).Single(q => q.Queue == BenchHost.Queue)[JobState.Completed];
            if (completed != count)
            {
                throw new InvalidOperationException($"The {processes} workers completed {completed:N0} of {count:N0} jobs; the rest did not complete.");
            }

            return new BenchRun(count / seconds, new Dictionary<string, double>(StringComparer.Ordinal) { ["jobs"] = completed, ["processes"] = processes });

            async Task<bool> AnyAsync(JobState state) =>
                (await host.Store.ListJobsAsync(new JobListQuery(BenchHost.Queue, state, Limit: 1), cancellationToken)).Items.Count > 0;
        }
        finally
        {
            await BenchWorkerProcess.KillAllAsync(workers);
            BenchHost.DeleteFiles(settings, path);
        }
    }
}
