using System.Diagnostics;

namespace Bulwark.Cli.Bench;

/// <summary>
/// Drain throughput with a deep queue: N jobs wait; while the worker drains a fixed sample, a feeder tops the queue
/// back up to N, so every tier drains the same sample against a steady depth and the tiers compare fairly.
/// </summary>
internal sealed class BacklogScenario : IBenchScenario
{
    public string Name => "backlog";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        long[] tiers = settings.Quick ? [1_000, 10_000, 100_000] : [1_000, 100_000, 1_000_000, 10_000_000];
        var sample = settings.Quick ? 3_000 : 30_000;
        var figures = new List<BenchFigure>();
        foreach (var depth in tiers)
        {
            var path = BenchHost.NewPath(settings, "backlog");
            try
            {
                var seedStarted = Stopwatch.GetTimestamp();
                await using (var seeder = BenchHost.Create(settings, "backlog", existingPath: path))
                {
                    await seeder.SeedAsync(depth, cancellationToken);
                }

                settings.Progress.WriteLine($"  backlog: {depth:N0} waiting seeded in {Stopwatch.GetElapsedTime(seedStarted).TotalSeconds:N1} s");
                var runs = new List<BenchRun>();
                // The first tier also pays for JIT warm-up; one discarded run keeps it from looking slower than deeper tiers.
                var warmups = depth == tiers[0] ? 1 : 0;
                for (var run = 0; run < settings.Runs + warmups; run++)
                {
                    await using var host = BenchHost.Create(settings, "backlog", existingPath: path);
                    var result = await DrainAtDepthAsync(host, depth, sample, cancellationToken);
                    if (run >= warmups)
                    {
                        runs.Add(result);
                    }
                }

                figures.Add(BenchFigure.From(Name, $"{depth:N0} waiting, {sample:N0} drained", "jobs/s", runs));
                settings.Progress.WriteLine($"  backlog {depth:N0}: {figures[^1].Median:N0} jobs/s");
            }
            finally
            {
                BenchHost.DeleteFiles(settings, path);
            }
        }

        return figures;
    }

    private static async Task<BenchRun> DrainAtDepthAsync(BenchHost host, long depth, long sample, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batch = host.NoopBatch(1000);
        var feeder = Task.Run(async () =>
        {
            long added = 0;
            while (!stop.IsCancellationRequested)
            {
                var missing = (int)Math.Min(1000, host.Store.Completed - added);
                if (missing <= 0)
                {
                    await Task.Delay(5, CancellationToken.None);
                    continue;
                }

                // Through the client, as producers do: its signal wakes a worker that found the queue empty for a moment,
                // which at 1,000 waiting happens, and without it the worker would sleep for a whole poll interval.
                await host.Client.EnqueueManyAsync(missing == 1000 ? batch : [.. batch.Take(missing)], CancellationToken.None);
                added += missing;
            }
        }, CancellationToken.None);
        try
        {
            var result = await DrainScenario.DrainAsync(host, sample, cancellationToken);
            return result with { Counts = new Dictionary<string, double>(result.Counts, StringComparer.Ordinal) { ["depth"] = depth } };
        }
        finally
        {
            await stop.CancelAsync();
            await feeder;
        }
    }
}
