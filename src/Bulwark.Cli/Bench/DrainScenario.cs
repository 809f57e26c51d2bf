using System.Diagnostics;

namespace Bulwark.Cli.Bench;

/// <summary>
/// N waiting no-op jobs drained by one in-process worker runtime (concurrency 50): jobs/s from the worker's start to
/// the last durable completion. Also used by the backlog scenario with a deeper queue and a fixed sample.
/// </summary>
internal sealed class DrainScenario : IBenchScenario
{
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

        var figure = BenchFigure.From(Name, $"{jobs:N0} waiting, 1 process, concurrency 50", "jobs/s", runs);
        settings.Progress.WriteLine($"  drain: {figure.Median:N0} jobs/s");
        return [figure];
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
}
