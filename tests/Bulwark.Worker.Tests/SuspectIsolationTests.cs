using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>A job whose previous attempt crashed its worker runs alone, so a poison job takes no innocent job down with it.</summary>
public sealed class SuspectIsolationTests
{
    [Fact]
    public async Task After_one_crash_the_dead_workers_jobs_run_in_parallel_beside_a_fresh_job()
    {
        var gate = new TaskCompletionSource();
        var started = 0;
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("slow", async (_, ctx) =>
        {
            Interlocked.Increment(ref started);
            await gate.Task.WaitAsync(ctx.CancellationToken);
        }));
        long[] victims = [await h.EnqueueAsync("slow"), await h.EnqueueAsync("slow"), await h.EnqueueAsync("slow")];
        await CrashAsync(h, victims);
        var fresh = await h.EnqueueAsync("slow");

        Assert.Equal(4, await h.Runtime.RunOnceAsync());
        await h.SettleAsync(() => Task.FromResult(Volatile.Read(ref started) == 4));
        Assert.Equal(4, h.Runtime.ActiveJobs);
        foreach (var id in victims.Append(fresh))
        {
            Assert.Equal(JobState.Running, (await h.GetAsync(id)).State);
        }

        gate.SetResult();
        await h.SettleAsync();
        foreach (var id in victims)
        {
            var job = await h.GetAsync(id);
            Assert.Equal(JobState.Completed, job.State);
            Assert.Single(job.Errors, e => e.Category == FailureCategory.Crash);
        }
    }

    [Fact]
    public async Task A_job_present_at_two_crashes_is_held_while_others_run_then_runs_alone_while_another_worker_keeps_leasing()
    {
        var fresh = new TaskCompletionSource();
        var suspectGate = new TaskCompletionSource();
        var suspectStarted = new TaskCompletionSource();
        Action<BulwarkBuilder> handlers = b => b
            .AddHandler<Empty>("suspect", async (_, ctx) =>
            {
                suspectStarted.TrySetResult();
                await suspectGate.Task.WaitAsync(ctx.CancellationToken);
            })
            .AddHandler<Empty>("fresh", async (_, ctx) => await fresh.Task.WaitAsync(ctx.CancellationToken));
        await using var h = await WorkerHarness.StartAsync(handlers);
        var suspect = await h.EnqueueAsync("suspect", maxAttempts: 5);
        await CrashAsync(h, suspect);
        await CrashAsync(h, suspect);
        var first = await h.EnqueueAsync("fresh");

        // Leased together: the fresh job starts; the suspect is held, leased to this worker but not started.
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Running, (await h.GetAsync(first)).State);
        var held = await h.GetAsync(suspect);
        Assert.Equal(JobState.Running, held.State);
        Assert.Equal(h.Runtime.Id, held.LeaseOwner);
        Assert.False(suspectStarted.Task.IsCompleted);

        // While the fresh job runs this worker leases nothing more; another worker takes the new job meanwhile.
        var later = await h.EnqueueAsync("fresh");
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Ready, (await h.GetAsync(later)).State);
        await using (var other = await WorkerHarness.StartAsync(handlers, o => o.Name = "other-worker", sharing: h))
        {
            Assert.Equal(1, await other.Runtime.RunOnceAsync());
            Assert.Equal(other.Runtime.Id, (await h.GetAsync(later)).LeaseOwner);

            // The held lease is renewed by the heartbeat: no reclaim takes it while it waits.
            for (var beat = 0; beat < 3; beat++)
            {
                h.Time.Advance(h.Options.LeaseDuration * 0.6);
                Assert.NotNull(await h.Runtime.HeartbeatOnceAsync());
                Assert.NotNull(await other.Runtime.HeartbeatOnceAsync());
            }

            Assert.Equal(0, (await h.Maintenance.RunOnceAsync()).Reclaim.Total);
            Assert.Equal(JobState.Running, (await h.GetAsync(suspect)).State);

            fresh.SetResult();
            await h.WaitForStateAsync(first, JobState.Completed);
            await other.SettleAsync();
        }

        // Nothing else in flight: the suspect starts alone, and nothing is leased while it runs.
        var afterwards = await h.EnqueueAsync("fresh");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await suspectStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, (await h.GetAsync(suspect)).Attempt);
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Ready, (await h.GetAsync(afterwards)).State);
        Assert.Equal(1, h.Runtime.ActiveJobs);

        // Once it ends, normal leasing resumes.
        suspectGate.SetResult();
        await h.WaitForStateAsync(suspect, JobState.Completed);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(afterwards, JobState.Completed);
    }

    [Fact]
    public async Task A_job_whose_last_attempt_follows_a_crash_runs_alone_and_a_second_suspect_of_the_batch_is_given_back_uncharged()
    {
        var gate = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("slow", async (_, ctx) => await gate.Task.WaitAsync(ctx.CancellationToken)));
        var twice = await h.EnqueueAsync("slow", maxAttempts: 5);
        var lastTry = await h.EnqueueAsync("slow", maxAttempts: 2);
        await CrashAsync(h, twice, lastTry);
        await CrashAsync(h, twice);
        var fresh = await h.EnqueueAsync("slow");

        // One lease of all three: the fresh job starts, the first suspect is held, the second goes back for others.
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.SettleAsync(() => Task.FromResult(h.Runtime.FinishingJobs == 0));
        Assert.Equal(JobState.Running, (await h.GetAsync(fresh)).State);
        Assert.Equal(JobState.Running, (await h.GetAsync(twice)).State);
        var givenBack = await h.GetAsync(lastTry);
        Assert.Equal(JobState.Ready, givenBack.State);
        Assert.Equal(1, givenBack.Attempt);
        Assert.Equal(FailureCategory.Shutdown, givenBack.Errors[^1].Category);

        gate.SetResult();
        await h.WaitForStateAsync(fresh, JobState.Completed);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(twice, JobState.Completed);
        Assert.Equal(3, (await h.GetAsync(twice)).Attempt);

        // Its last attempt follows a crash: it too runs alone, and completes on that last attempt.
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Running, (await h.GetAsync(lastTry)).State);
        var afterwards = await h.EnqueueAsync("slow");
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Ready, (await h.GetAsync(afterwards)).State);
        await h.WaitForStateAsync(lastTry, JobState.Completed);
        Assert.Equal(2, (await h.GetAsync(lastTry)).Attempt);
    }

    [Fact]
    public async Task A_job_that_failed_in_its_handler_is_no_suspect_and_runs_beside_others()
    {
        var gate = new TaskCompletionSource();
        var failures = 0;
        await using var h = await WorkerHarness.StartAsync(b => b
            .AddHandler<Empty>("flaky", (_, _) => Interlocked.Increment(ref failures) == 1 ? throw new InvalidOperationException("once") : gate.Task)
            .AddHandler<Empty>("fresh", async (_, ctx) => await gate.Task.WaitAsync(ctx.CancellationToken)));
        var flaky = await h.EnqueueAsync("flaky", backoff: BackoffPolicy.Fixed(TimeSpan.Zero));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.Maintenance.RunOnceAsync();
        var fresh = await h.EnqueueAsync("fresh");

        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Running, (await h.GetAsync(flaky)).State);
        Assert.Equal(JobState.Running, (await h.GetAsync(fresh)).State);
        gate.SetResult();
        await h.SettleAsync();
    }

    [Fact]
    public async Task After_two_shared_crashes_the_innocent_job_completes_and_the_poison_job_crashes_alone_until_quarantined_within_max_attempts()
    {
        WorkerHarness? first = null;
        var poison = 0L;
        var innocent = 0L;
        var harnesses = new List<WorkerHarness>();
        try
        {
            for (var process = 1; process <= 8; process++)
            {
                // Each round is a restarted worker process under the same name: registration reclaims the dead one's jobs.
                var innocentGate = new TaskCompletionSource();
                var poisonStarted = new TaskCompletionSource();
                var h = await WorkerHarness.StartAsync(
                    b => b
                        .AddHandler<Empty>("demo.crash", async (_, ctx) =>
                        {
                            poisonStarted.TrySetResult();
                            await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken);
                        })
                        .AddHandler<Empty>("demo.append", async (_, ctx) => await innocentGate.Task.WaitAsync(ctx.CancellationToken)),
                    sharing: first);
                harnesses.Add(h);
                if (first is null)
                {
                    first = h;
                    poison = await h.EnqueueAsync("demo.crash");
                    innocent = await h.EnqueueAsync("demo.append");
                }

                if (await RunUntilPoisonStartsAsync(h, poison, innocentGate, poisonStarted.Task))
                {
                    // demo.crash takes the process down with whatever else it runs: this worker is never driven again.
                    continue;
                }

                break;
            }

            var poisoned = await first!.GetAsync(poison);
            Assert.Equal(JobState.DeadLetter, poisoned.State);
            Assert.Equal(3, poisoned.Errors.Count(e => e.Category == FailureCategory.Crash));
            Assert.Contains("poison", poisoned.Reason, StringComparison.OrdinalIgnoreCase);
            // The innocent job shared the first two crashes (one crash proves nothing, so it ran beside the poison job
            // again); then both were suspects and ran alone, the innocent one to completion.
            var survivor = await first.GetAsync(innocent);
            Assert.Equal(JobState.Completed, survivor.State);
            Assert.Equal(2, survivor.Errors.Count(e => e.Category == FailureCategory.Crash));
        }
        finally
        {
            foreach (var h in harnesses)
            {
                await h.DisposeAsync();
            }
        }
    }

    /// <summary>Drives one worker until the poison job starts on it (true) or the queue is done (false).</summary>
    private static async Task<bool> RunUntilPoisonStartsAsync(WorkerHarness h, long poison, TaskCompletionSource innocentGate, Task poisonStarted)
    {
        for (var pass = 0; pass < 20; pass++)
        {
            await h.Runtime.RunOnceAsync();
            var job = await h.GetAsync(poison);
            if (job.State == JobState.Running && job.LeaseOwner == h.Runtime.Id &&
                (await Task.WhenAny(poisonStarted, Task.Delay(TimeSpan.FromSeconds(1))) == poisonStarted))
            {
                // Its handler runs (a held suspect is leased but not started): the process dies with what it runs.
                return true;
            }

            innocentGate.TrySetResult();
            await h.SettleAsync();
            var queues = await h.Store.GetQueuesAsync();
            if (queues.All(q => q[JobState.Ready] == 0 && q[JobState.Running] == 0))
            {
                return false;
            }
        }

        throw new InvalidOperationException("The worker neither ran the poison job nor emptied the queue in 20 passes.");
    }

    /// <summary>Leases the jobs as one worker that then dies: maintenance reclaims them with a Crash record each.</summary>
    private static async Task CrashAsync(WorkerHarness h, params long[] ids)
    {
        var leased = await h.Store.LeaseAsync(new LeaseRequest("dead-worker", ["default"], ids.Length, TimeSpan.FromSeconds(10)));
        Assert.Equal(ids.Order(), leased.Select(l => l.Id).Order());
        h.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(ids.Order(), (await h.Maintenance.RunOnceAsync()).Reclaim.Reclaimed.Order());
    }
}
