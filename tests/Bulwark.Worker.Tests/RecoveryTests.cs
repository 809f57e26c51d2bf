using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Maintenance;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class RecoveryTests
{
    [Fact]
    public async Task An_expired_lease_is_reclaimed_as_Crash_and_the_stale_workers_late_outcome_is_refused_and_counted()
    {
        var release = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("stuck", async (_, _) => await release.Task),
            maintenance: new MaintenanceOptions { WorkerDeadAfter = TimeSpan.FromHours(1) });
        var id = await h.EnqueueAsync("stuck");
        await h.Runtime.RunOnceAsync();

        // No heartbeat reaches the store (the process was paused): the lease runs out.
        h.Time.Advance(TimeSpan.FromSeconds(11));
        var pass = await h.Maintenance.RunOnceAsync();
        Assert.Equal([id], pass.Reclaim.Reclaimed);
        var job = await h.GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(FailureCategory.Crash, Assert.Single(job.Errors).Category);
        Assert.Equal(1, h.Counter("bulwark.stalled_jobs.reclaimed"));

        release.SetResult(); // the stale handler finishes after all
        await h.SettleAsync();
        Assert.Equal(JobState.Ready, (await h.GetAsync(id)).State);
        Assert.Equal(1, h.Counter("bulwark.jobs.duplicate_executions"));
    }

    [Fact]
    public async Task A_heartbeat_reporting_a_lost_lease_cancels_the_handler_and_counts_it()
    {
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("long", async (_, ctx) => await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken)),
            maintenance: new MaintenanceOptions { WorkerDeadAfter = TimeSpan.FromHours(1) });
        var id = await h.EnqueueAsync("long");
        await h.Runtime.RunOnceAsync();
        h.Time.Advance(TimeSpan.FromSeconds(11));
        await h.Maintenance.RunOnceAsync();

        await h.Runtime.HeartbeatOnceAsync();
        await h.SettleAsync();
        Assert.Equal(0, h.Runtime.ActiveJobs);
        Assert.Equal(1, h.Counter("bulwark.lease.lost"));
        Assert.Equal(1, h.Counter("bulwark.jobs.duplicate_executions"));
        Assert.Equal(JobState.Ready, (await h.GetAsync(id)).State);
    }

    [Fact]
    public async Task Heartbeats_keep_a_long_job_leased_past_its_lease_length()
    {
        var release = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("long", async (_, _) => await release.Task));
        var id = await h.EnqueueAsync("long");
        await h.Runtime.RunOnceAsync();
        for (var i = 0; i < 15; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(1, (await h.Runtime.HeartbeatOnceAsync())!.Renewed);
            Assert.Equal(0, (await h.Maintenance.RunOnceAsync()).Reclaim.Total);
        }

        release.SetResult();
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task A_silent_worker_is_declared_dead_and_its_jobs_reclaimed()
    {
        var release = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("stuck", async (_, _) => await release.Task),
            o => { o.LeaseDuration = TimeSpan.FromMinutes(5); o.HeartbeatInterval = TimeSpan.FromSeconds(2); },
            new MaintenanceOptions { WorkerDeadAfter = TimeSpan.FromSeconds(10) });
        var id = await h.EnqueueAsync("stuck");
        await h.Runtime.RunOnceAsync();

        h.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty((await h.Maintenance.RunOnceAsync()).Reclaim.DeadWorkers);
        h.Time.Advance(TimeSpan.FromSeconds(2));
        var pass = await h.Maintenance.RunOnceAsync();
        Assert.Equal([h.Runtime.Id], pass.Reclaim.DeadWorkers);
        Assert.Equal([id], pass.Reclaim.Reclaimed);
        release.SetResult();
        await h.SettleAsync();
    }

    [Fact]
    public async Task A_job_whose_workers_keep_dying_is_quarantined_as_poison_after_its_attempts()
    {
        var release = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("crash", async (_, _) => await release.Task).AddHandler<Empty>("noop", (_, _) => Task.CompletedTask),
            maintenance: new MaintenanceOptions { WorkerDeadAfter = TimeSpan.FromHours(1) });
        var poison = await h.EnqueueAsync("crash", maxAttempts: 2);

        await h.Runtime.RunOnceAsync();
        h.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal([poison], (await h.Maintenance.RunOnceAsync()).Reclaim.Reclaimed);

        // The first worker is gone for the store; a second one takes the job (alone: it is a suspect now) and dies too.
        await using var second = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("crash", async (_, _) => await release.Task), o => o.Name = "second", sharing: h);
        Assert.Equal(1, await second.Runtime.RunOnceAsync());
        h.Time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal([poison], (await h.Maintenance.RunOnceAsync()).Reclaim.Poisoned);

        var job = await h.GetAsync(poison);
        Assert.Equal(JobState.DeadLetter, job.State);
        Assert.All(job.Errors, e => Assert.Equal(FailureCategory.Crash, e.Category));

        release.SetResult();
        await h.SettleAsync();
        await second.SettleAsync();
        var other = await h.EnqueueAsync("noop");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(other, JobState.Completed);
    }

    [Fact]
    public async Task Registering_under_a_restarted_name_recovers_the_previous_processes_jobs()
    {
        var release = new TaskCompletionSource();
        await using var first = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("stuck", async (_, _) => await release.Task));
        var id = await first.EnqueueAsync("stuck");
        await first.Runtime.RunOnceAsync();

        // A second runtime with the same name on the same store is the restarted process.
        var reclaimed = await first.Store.RegisterWorkerAsync(new Bulwark.Storage.WorkerRegistration
        {
            Id = "test-worker-restarted",
            Name = first.Runtime.Name,
            Host = Environment.MachineName,
            ProcessId = 1,
            Queues = ["default"],
            Concurrency = 1,
            StartedAt = first.Time.GetUtcNow(),
        });
        Assert.Equal([id], reclaimed.Reclaimed);
        release.SetResult();
        await first.SettleAsync();
    }

    [Fact]
    public async Task Maintenance_promotes_due_jobs_and_is_idempotent()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        var job = JobValidator.Validate(new NewJob { Queue = "default", Type = "noop", Payload = "{}", RunAt = h.Time.GetUtcNow().AddSeconds(5) });
        var id = (await h.Store.EnqueueAsync([job]))[0].Id;
        Assert.Equal(0, (await h.Maintenance.RunOnceAsync()).Promoted);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, (await h.Maintenance.RunOnceAsync()).Promoted);
        Assert.Equal(0, (await h.Maintenance.RunOnceAsync()).Promoted);
        Assert.Equal(JobState.Ready, (await h.GetAsync(id)).State);
    }
}
