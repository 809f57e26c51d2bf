using System.Diagnostics;
using Bulwark.Jobs;

namespace Bulwark.Cli.Bench;

/// <summary>Enqueue throughput through <c>JobClient</c>: single jobs from 1, 8 and 64 producers, and batches of 100 and 1,000.</summary>
internal sealed class EnqueueScenario : IBenchScenario
{
    private static readonly (string Name, int Producers, int Batch)[] Cases =
    [
        ("single, 1 producer", 1, 1),
        ("single, 8 producers", 8, 1),
        ("single, 64 producers", 64, 1),
        ("batch of 100, 1 producer", 1, 100),
        ("batch of 1,000, 1 producer", 1, 1000),
        ("batch of 1,000, 4 producers", 4, 1000),
    ];

    public string Name => "enqueue";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var duration = settings.Quick ? TimeSpan.FromMilliseconds(400) : TimeSpan.FromSeconds(5);
        var figures = new List<BenchFigure>();
        foreach (var (name, producers, batchSize) in Cases)
        {
            var runs = new List<BenchRun>();
            for (var run = 0; run < settings.Runs; run++)
            {
                runs.Add(await RunOnceAsync(settings, producers, batchSize, duration, cancellationToken));
            }

            figures.Add(BenchFigure.From(Name, name, "jobs/s", runs));
            settings.Progress.WriteLine($"  enqueue {name}: {figures[^1].Median:N0} jobs/s");
        }

        return figures;
    }

    private static async Task<BenchRun> RunOnceAsync(BenchSettings settings, int producers, int batchSize, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var host = BenchHost.Create(settings, "enqueue");
        var batches = Enumerable.Range(0, 8).Select(b => host.NoopBatch(batchSize, b * batchSize)).ToArray();
        await host.Client.EnqueueManyAsync(batches[0], cancellationToken); // warm-up: file created, statements prepared
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var counts = new long[producers];
        var calls = new long[producers];
        var started = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                IReadOnlyList<NewJob> batch = batches[(p + n++) % batches.Length];
                await host.Client.EnqueueManyAsync(batch, cancellationToken);
                counts[p] += batch.Count;
                calls[p]++;
            }
        }, cancellationToken)).ToArray();
        stop.CancelAfter(duration);
        await Task.WhenAll(tasks);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new BenchRun(counts.Sum() / seconds, new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["jobs"] = counts.Sum(),
            ["enqueue_calls"] = calls.Sum(),
        });
    }
}
