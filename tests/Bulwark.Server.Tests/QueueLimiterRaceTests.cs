using Bulwark.Client;
using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Server.Api;
using Bulwark.Server.Observability;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Bulwark.TestProcesses;
using Bulwark.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests;

/// <summary>
/// The hard limit against its two samplers racing: the depth sampler and a stale <see cref="QueueLimiter.ReserveAsync"/>
/// both read queue depths, and on a loaded machine the older read can be applied last.
/// </summary>
public sealed class QueueLimiterRaceTests
{
    [Fact]
    public async Task A_depth_sample_applied_after_a_newer_one_is_dropped_so_the_reservations_the_newer_one_replaced_still_count()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var store = new InMemoryJobStore(time);
        var limiter = Limiter(store, time, hardLimit: 2);
        await store.EnqueueAsync(Jobs(1));

        // Sample A reads the depth (1) and is slow to be applied.
        var aBegan = limiter.BeginSample();
        var a = await store.GetQueuesAsync();

        // Meanwhile one more job is reserved and committed, and sample B (depth 2) is read and applied: the reservation goes.
        var late = Jobs(1);
        await limiter.ReserveAsync(late, CancellationToken.None);
        await store.EnqueueAsync(late);
        limiter.Committed(late);
        var bBegan = limiter.BeginSample();
        Assert.True(limiter.Update(await store.GetQueuesAsync(), time.GetUtcNow(), bBegan));

        // A arrives last. Applied, it would say depth 1 with no reservation left: room for one job too many.
        Assert.False(limiter.Update(a, time.GetUtcNow(), aBegan));

        var problem = await Assert.ThrowsAsync<ApiProblemException>(() => limiter.ReserveAsync(Jobs(1), CancellationToken.None));
        Assert.Contains("holds 2 waiting jobs and its hard limit is 2", problem.Message);
        Assert.Equal(2, (await store.GetQueuesAsync()).Single().Counts[JobState.Ready]);
    }

    [Fact]
    public async Task Many_concurrent_enqueues_racing_both_samplers_under_cpu_pressure_store_exactly_the_hard_limit()
    {
        const int hardLimit = 100;
        const int callers = 48;
        const int rounds = 12;
        var path = Path.Combine(Path.GetTempPath(), $"bulwark-limiter-race-{Guid.NewGuid():N}.db");
        // The fake clock is moved on without pause, so nearly every reservation finds its snapshot stale and reads the
        // store itself, while the depth sampler reads in a loop: the two kinds of sample finish in every order.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path });
        try
        {
            using var metrics = new BulwarkMetrics();
            var client = new JobClient(store, store);
            var options = new BulwarkServerOptions { DefaultHardLimit = hardLimit };
            var preempted = new PreemptedReads(store);
            var limiter = new QueueLimiter(preempted, options, time, NullLogger<QueueLimiter>.Instance);
            var sampler = new QueueDepthSampler(preempted, metrics, limiter, options, time, NullLogger<QueueDepthSampler>.Instance);
            using var stop = new CancellationTokenSource();

            // CPU pressure: more spinning threads than cores, so the readers and writers are preempted mid-step.
            var spinners = Enumerable.Range(0, Environment.ProcessorCount * 2).Select(_ => Task.Factory.StartNew(() =>
            {
                var x = 0UL;
                while (!stop.IsCancellationRequested)
                {
                    x = (x * 6364136223846793005UL) + 1442695040888963407UL;
                }

                return x;
            }, TaskCreationOptions.LongRunning)).ToArray();
            var clock = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    time.Advance(TimeSpan.FromSeconds(2));
                    await Task.Yield();
                }
            });
            var passes = 0;
            var sampling = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await sampler.RunOnceAsync(CancellationToken.None);
                    Interlocked.Increment(ref passes);
                }
            });

            // Each round fills a queue of its own: every approach to a limit is a chance for the race to overshoot it.
            for (var round = 0; round < rounds; round++)
            {
                var queue = $"race-{round}";
                var accepted = 0;
                async Task<bool> TryEnqueueAsync()
                {
                    try
                    {
                        await LimitedEnqueue.EnqueueAsync(client, limiter, Jobs(1, queue), CancellationToken.None);
                        Interlocked.Increment(ref accepted);
                        return true;
                    }
                    catch (ApiProblemException problem) when (problem.Status == 429)
                    {
                        return false;
                    }
                }

                // Each caller enqueues until refused twice in a row. A refusal may come early (a committed job counted
                // both in a sample and as a reservation until the next sample), never late.
                var passesBefore = Volatile.Read(ref passes);
                await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
                {
                    var refusedInARow = 0;
                    while (refusedInARow < 2)
                    {
                        refusedInARow = await TryEnqueueAsync() ? 0 : refusedInARow + 1;
                    }
                })));

                var racedIn = Ready(await store.GetQueuesAsync(), queue);
                Assert.True(racedIn <= hardLimit, $"round {round}: {racedIn} jobs stored under a hard limit of {hardLimit}");
                Assert.Equal(racedIn, accepted);
                Assert.True(Volatile.Read(ref passes) > passesBefore, $"round {round}: the depth sampler did not run during the race");

                // Once every reservation is settled by a later sample, the queue takes exactly what is left: early
                // refusals are transient, never a leak.
                await Poll.UntilAsync(async () => !await TryEnqueueAsync() && Ready(await store.GetQueuesAsync(), queue) == hardLimit,
                    TimeSpan.FromSeconds(30), () => $"round {round}: queue '{queue}' never filled to its hard limit of {hardLimit}");
                Assert.Equal(hardLimit, accepted);
            }

            await stop.CancelAsync();
            await sampling;
            await clock;
            await Task.WhenAll(spinners);
        }
        finally
        {
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    private static long Ready(IReadOnlyList<QueueStats> queues, string queue) => queues.Single(q => q.Queue == queue).Counts[JobState.Ready];

    private static QueueLimiter Limiter(InMemoryJobStore store, TimeProvider time, long hardLimit) =>
        new(store, Options(hardLimit), time, NullLogger<QueueLimiter>.Instance);

    private static BulwarkServerOptions Options(long hardLimit)
    {
        var options = new BulwarkServerOptions();
        options.Queues["tiny"] = new QueueLimitOptions { HardLimit = hardLimit };
        return options;
    }

    private static NewJob[] Jobs(int count, string queue = "tiny") =>
        [.. Enumerable.Range(0, count).Select(_ => JobValidator.Validate(new NewJob { Queue = queue, Type = "demo.noop", Payload = "{}" }))];

    /// <summary>
    /// Depth reads whose result reaches the caller a random few milliseconds late, as on a machine whose cores are all
    /// busy: what a loaded CI box does to the thread that would apply the sample.
    /// </summary>
    private sealed class PreemptedReads(IJobQuery inner) : IJobQuery
    {
        public Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken = default) => inner.GetJobAsync(jobId, cancellationToken);

        public Task<JobSnapshot?> FindByKeyAsync(string key, CancellationToken cancellationToken = default) => inner.FindByKeyAsync(key, cancellationToken);

        public Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken = default) => inner.ListJobsAsync(query, cancellationToken);

        public async Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default)
        {
            var queues = await inner.GetQueuesAsync(cancellationToken);
            await Task.Delay(Random.Shared.Next(0, 4), cancellationToken);
            return queues;
        }

        public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default) => inner.ListWorkersAsync(cancellationToken);

        public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit = 100, CancellationToken cancellationToken = default) => inner.ListStalledAsync(limit, cancellationToken);
    }
}
