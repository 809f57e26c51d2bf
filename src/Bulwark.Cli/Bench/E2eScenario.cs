using System.Diagnostics;

namespace Bulwark.Cli.Bench;

/// <summary>
/// Producers (4, batches of 100) and one in-process worker (concurrency 50) at once: jobs/s completed. Producers hold
/// back while more than <see cref="MaxBacklog"/> jobs wait, so the figure is a rate the system sustains rather than
/// producers starving the worker of CPU while a backlog grows without bound.
/// </summary>
internal sealed class E2eScenario : IBenchScenario
{
    private const long MaxBacklog = 5_000;

    public string Name => "e2e";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var duration = settings.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        var runs = new List<BenchRun>();
        for (var run = 0; run < settings.Runs; run++)
        {
            await using var host = BenchHost.Create(settings, "e2e");
            var batch = host.NoopBatch(100);
            await host.StartWorkerAsync(cancellationToken);
            host.Store.ResetCounts();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            long enqueued = 0;
            var started = Stopwatch.GetTimestamp();
            var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if (Interlocked.Read(ref enqueued) - host.Store.Completed > MaxBacklog)
                    {
                        await Task.Delay(1, CancellationToken.None);
                        continue;
                    }

                    await host.Client.EnqueueManyAsync(batch, CancellationToken.None);
                    Interlocked.Add(ref enqueued, batch.Count);
                }
            }, CancellationToken.None)).ToArray();
            stop.CancelAfter(duration);
            await Task.WhenAll(producers);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var completed = host.Store.Completed;
            runs.Add(new BenchRun(completed / seconds, new Dictionary<string, double>(host.Store.Counts(), StringComparer.Ordinal)
            {
                ["enqueued_per_s"] = Math.Round(enqueued / seconds),
                ["completed"] = completed,
            }));
        }

        var figure = BenchFigure.From(Name, "4 producers (batches of 100) + 1 worker (concurrency 50)", "jobs/s completed", runs);
        settings.Progress.WriteLine($"  e2e: {figure.Median:N0} jobs/s");
        return [figure];
    }
}
