using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>A job whose previous attempt crashed its worker runs alone, so a poison job takes no innocent job down with it.</summary>
public sealed class SuspectIsolationTests
{
    [Fact]
    public async Task A_suspect_is_not_started_while_other_jobs_run_and_nothing_is_leased_while_it_runs()
    {
        var fresh = new TaskCompletionSource();
        var suspectGate = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(b => b
            .AddHandler<Empty>("suspect", async (_, ctx) => await suspectGate.Task.WaitAsync(ctx.CancellationToken))
            .AddHandler<Empty>("fresh", async (_, ctx) => await fresh.Task.WaitAsync(ctx.CancellationToken)));
        var suspect = await h.EnqueueAsync("suspect");
        await CrashAsync(h, suspect);
        var first = await h.EnqueueAsync("fresh");

        // Leased together: the fresh job starts, the suspect is given back unstarted and uncharged.
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Running, (await h.GetAsync(first)).State);
        var givenBack = await h.GetAsync(suspect);
        Assert.Equal(JobState.Ready, givenBack.State);
        Assert.Equal(1, givenBack.Attempt);
        Assert.Equal(FailureCategory.Shutdown, givenBack.Errors[^1].Category);

        // While the fresh job runs, the worker waits instead of leasing the suspect (or anything else).
        var later = await h.EnqueueAsync("fresh");
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Ready, (await h.GetAsync(suspect)).State);
        Assert.Equal(JobState.Ready, (await h.GetAsync(later)).State);

        fresh.SetResult();
        await h.WaitForStateAsync(first, JobState.Completed);

        // Idle now: it takes one job, the suspect, and runs it alone; nothing else is leased while it runs.
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Running, (await h.GetAsync(suspect)).State);
        Assert.Equal(2, (await h.GetAsync(suspect)).Attempt);
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(JobState.Ready, (await h.GetAsync(later)).State);
        Assert.Equal(1, h.Runtime.ActiveJobs);

        // Once it ends, normal leasing resumes.
        suspectGate.SetResult();
        await h.WaitForStateAsync(suspect, JobState.Completed);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(later, JobState.Completed);
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
    public async Task After_the_first_shared_crash_the_innocent_job_completes_and_the_poison_job_crashes_alone_until_quarantined()
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
                var h = await WorkerHarness.StartAsync(
                    b => b
                        .AddHandler<Empty>("demo.crash", async (_, ctx) => await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken))
                        .AddHandler<Empty>("demo.append", async (_, ctx) => await innocentGate.Task.WaitAsync(ctx.CancellationToken)),
                    sharing: first);
                harnesses.Add(h);
                if (first is null)
                {
                    first = h;
                    poison = await h.EnqueueAsync("demo.crash");
                    innocent = await h.EnqueueAsync("demo.append");
                }

                if (await RunUntilPoisonStartsAsync(h, poison, innocentGate))
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
            var survivor = await first.GetAsync(innocent);
            Assert.Equal(JobState.Completed, survivor.State);
            Assert.Single(survivor.Errors, e => e.Category == FailureCategory.Crash);
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
    private static async Task<bool> RunUntilPoisonStartsAsync(WorkerHarness h, long poison, TaskCompletionSource innocentGate)
    {
        for (var pass = 0; pass < 20; pass++)
        {
            await h.Runtime.RunOnceAsync();
            var job = await h.GetAsync(poison);
            if (job.State == JobState.Running && job.LeaseOwner == h.Runtime.Id)
            {
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

    /// <summary>Leases the job as a worker that then dies: maintenance reclaims it with a Crash record.</summary>
    private static async Task CrashAsync(WorkerHarness h, long id)
    {
        var leased = await h.Store.LeaseAsync(new LeaseRequest("dead-worker", ["default"], 1, TimeSpan.FromSeconds(10)));
        Assert.Equal(id, Assert.Single(leased).Id);
        h.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal([id], (await h.Maintenance.RunOnceAsync()).Reclaim.Reclaimed);
    }
}
