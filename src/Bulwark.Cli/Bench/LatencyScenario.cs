using System.Collections.Concurrent;
using System.Diagnostics;

namespace Bulwark.Cli.Bench;

/// <summary>
/// A steady 1,000 single jobs/s (10 every 10 ms, each its own acknowledged enqueue) into a running in-process worker:
/// p50/p95/p99 from the acknowledgement to the handler's start, and to the durable completion. Then the same rate into
/// a separate <c>bulwark worker</c> process (the API server and worker fleet topology): from the enqueue call to the
/// lease, read from the job's <c>started_at</c> (the store's clock, which on one machine is the producer's; whole
/// milliseconds on SQLite, so the figure counts from the call, not the acknowledgement, and includes the commit).
/// Jobs enqueued in a run's first second are a warm-up and stay out of the percentiles, as the peer harness leaves out
/// its systems' first second: a fresh worker process compiles its code then (traced: 161–191 of the ~200 jobs above
/// the cross-process p99 on PostgreSQL were enqueued in that second, its first lease statement took 82 ms). The
/// cross-process p99 of that first second is reported on its own line, so a slow start stays visible.
/// </summary>
internal sealed class LatencyScenario : IBenchScenario
{
    private const int Rate = 1_000;

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);

    public string Name => "latency";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        var duration = settings.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(20);
        var start = new List<(double P50, double P95, double P99)>();
        var finish = new List<(double P50, double P95, double P99)>();
        var across = new List<(double P50, double P95, double P99)>();
        var acrossAcked = new List<(double P50, double P95, double P99)>();
        var commits = new List<(double P50, double P95, double P99)>();
        var cold = new List<double>();
        for (var run = 0; run < settings.Runs; run++)
        {
            var (s, f) = await RunOnceAsync(settings, duration, cancellationToken);
            start.Add(s);
            finish.Add(f);
            var (call, ack, commit, first) = await CrossProcessOnceAsync(settings, duration, cancellationToken);
            cold.Add(first);
            across.Add(call);
            acrossAcked.Add(ack);
            commits.Add(commit);
        }

        var figures = new List<BenchFigure>
        {
            Figure("ack → handler start p50", start.Select(x => x.P50)),
            Figure("ack → handler start p95", start.Select(x => x.P95)),
            Figure("ack → handler start p99", start.Select(x => x.P99)),
            Figure("ack → completion p50", finish.Select(x => x.P50)),
            Figure("ack → completion p95", finish.Select(x => x.P95)),
            Figure("ack → completion p99", finish.Select(x => x.P99)),
            Figure("cross-process enqueue → lease p50", across.Select(x => x.P50)),
            Figure("cross-process enqueue → lease p95", across.Select(x => x.P95)),
            Figure("cross-process enqueue → lease p99", across.Select(x => x.P99)),
            Figure("cross-process ack → lease p50", acrossAcked.Select(x => x.P50)),
            Figure("cross-process ack → lease p95", acrossAcked.Select(x => x.P95)),
            Figure("cross-process ack → lease p99", acrossAcked.Select(x => x.P99)),
            Figure("cross-process enqueue → ack p50", commits.Select(x => x.P50)),
            Figure("cross-process enqueue → ack p95", commits.Select(x => x.P95)),
            Figure("cross-process enqueue → ack p99", commits.Select(x => x.P99)),
            Figure("cross-process enqueue → lease p99, first second (warm-up, cold worker)", cold),
        };
        settings.Progress.WriteLine($"  latency: handler start p99 {figures[2].Median:N2} ms, completion p99 {figures[5].Median:N2} ms; "
            + $"worker in another process: enqueue → lease p50 {figures[6].Median:N2} ms, p99 {figures[8].Median:N2} ms "
            + $"(enqueue → ack p99 {figures[14].Median:N2} ms, ack → lease p99 {figures[11].Median:N2} ms)");
        return figures;

        BenchFigure Figure(string name, IEnumerable<double> values) =>
            BenchFigure.From(Name, $"{name} at {Rate:N0} jobs/s", "ms", [.. values.Select(BenchRun.Of)]);
    }

    private static async Task<((double, double, double) Start, (double, double, double) Finish)> RunOnceAsync(BenchSettings settings, TimeSpan duration, CancellationToken cancellationToken)
    {
        await using var host = BenchHost.Create(settings, "latency");
        var acked = new ConcurrentDictionary<long, long>();
        var started = new ConcurrentDictionary<long, long>();
        var finished = new ConcurrentDictionary<long, long>();
        host.HandlerStarted = id => started[id] = Stopwatch.GetTimestamp();
        host.Store.Finished = outcomes =>
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var outcome in outcomes)
            {
                finished[outcome.Token.JobId] = now;
            }
        };
        await host.StartWorkerAsync(cancellationToken);
        var job = host.NoopBatch(1);
        var sent = new List<Task>();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var perTick = Rate / 100;
        var warm = Stopwatch.GetTimestamp() + (long)(WarmUp.TotalSeconds * Stopwatch.Frequency);
        var deadline = warm + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && await timer.WaitForNextTickAsync(cancellationToken))
        {
            for (var i = 0; i < perTick; i++)
            {
                var measured = Stopwatch.GetTimestamp() >= warm;
                sent.Add(Task.Run(async () =>
                {
                    var result = await host.Client.EnqueueManyAsync(job, cancellationToken);
                    if (measured)
                    {
                        acked[result[0].Id] = Stopwatch.GetTimestamp();
                    }
                }, cancellationToken));
            }
        }

        await Task.WhenAll(sent);
        await host.WaitForCompletedAsync(sent.Count, TimeSpan.FromSeconds(60), cancellationToken);
        return (Summary(acked, started), Summary(acked, finished));
    }

    private static async Task<((double, double, double) Call, (double, double, double) Ack, (double, double, double) Commit, double ColdP99)> CrossProcessOnceAsync(BenchSettings settings, TimeSpan duration, CancellationToken cancellationToken)
    {
        var path = BenchHost.NewPath(settings, "latency_xp");
        var name = $"xp-{Guid.NewGuid():N}"[..16];
        Process? worker = null;
        try
        {
            // The host here only produces: its own worker is never started.
            await using var host = BenchHost.Create(settings, "latency_xp", existingPath: path);
            worker = BenchWorkerProcess.Start(settings, path, name, 50);
            await BenchWorkerProcess.WaitUntilAsync(async () => (await host.Store.ListWorkersAsync(cancellationToken))
                .Any(w => w.Registration.Name == name && w.State == Bulwark.Storage.WorkerState.Active), "the worker process to register", [worker], cancellationToken);
            var job = new[] { host.Client.Build(BenchHost.Queue, "demo.noop", "{}") };
            var called = new ConcurrentDictionary<long, (DateTimeOffset Call, DateTimeOffset Ack)>();
            var sent = new List<Task>();
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            var warm = DateTimeOffset.UtcNow + WarmUp;
            var deadline = Stopwatch.GetTimestamp() + (long)((duration + WarmUp).TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < deadline && await timer.WaitForNextTickAsync(cancellationToken))
            {
                for (var i = 0; i < Rate / 100; i++)
                {
                    sent.Add(Task.Run(async () =>
                    {
                        var at = DateTimeOffset.UtcNow;
                        var result = await host.Client.EnqueueManyAsync(job, cancellationToken);
                        called[result[0].Id] = (at, DateTimeOffset.UtcNow);
                    }, cancellationToken));
                }
            }

            await Task.WhenAll(sent);
            await BenchWorkerProcess.WaitUntilAsync(async () =>
                (await host.Store.GetQueuesAsync(cancellationToken)).Where(q => q.Queue == BenchHost.Queue).Sum(q => q[Bulwark.Jobs.JobState.Completed]) >= called.Count,
                "the worker process to complete every job", [worker], cancellationToken);
            var fromCall = new List<double>(called.Count);
            var fromAck = new List<double>(called.Count);
            var toAck = new List<double>(called.Count);
            var first = new List<double>();
            foreach (var (id, (at, acked)) in called)
            {
                if ((await host.Store.GetJobAsync(id, cancellationToken))?.StartedAt is { } leased)
                {
                    // started_at is truncated to the millisecond on SQLite: the lease happened within the millisecond after
                    // it, so from the acknowledgement (sub-millisecond on the producer's clock) it counts to that
                    // millisecond's end, an upper bound, never 0 for a lease that came in the acknowledgement's own one.
                    // A lease before the producer's continuation noted the call still counts as 0 ms.
                    var leasedBy = settings.Postgres is null ? leased + TimeSpan.FromMilliseconds(1) : leased;
                    var sinceCall = Math.Max(0, (leased - at).TotalMilliseconds);
                    if (at < warm)
                    {
                        first.Add(sinceCall);
                        continue;
                    }

                    fromCall.Add(sinceCall);
                    fromAck.Add(Math.Max(0, (leasedBy - acked).TotalMilliseconds));
                    toAck.Add((acked - at).TotalMilliseconds);
                }
            }

            return (Of(fromCall), Of(fromAck), Of(toAck), Of(first).Item3);
        }
        finally
        {
            await BenchWorkerProcess.KillAllAsync([worker]);
            BenchHost.DeleteFiles(settings, path);
        }
    }

    private static (double, double, double) Of(List<double> ms)
    {
        double[] sorted = [.. ms.Order()];
        return (Percentiles.Of(sorted, 50), Percentiles.Of(sorted, 95), Percentiles.Of(sorted, 99));
    }

    private static (double, double, double) Summary(ConcurrentDictionary<long, long> acked, ConcurrentDictionary<long, long> later)
    {
        // A handler can start before the producer's continuation records its acknowledgement: that counts as 0 ms.
        double[] ms = [.. acked.Where(a => later.ContainsKey(a.Key))
            .Select(a => Math.Max(0, (later[a.Key] - a.Value) * 1000.0 / Stopwatch.Frequency)).Order()];
        return (Percentiles.Of(ms, 50), Percentiles.Of(ms, 95), Percentiles.Of(ms, 99));
    }
}
