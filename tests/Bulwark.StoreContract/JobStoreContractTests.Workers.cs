using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>The worker registry across restarts: what a same-name registration does to its predecessors, and the purge by retention.</summary>
public abstract partial class JobStoreContractTests
{
    private static readonly TimeSpan WorkerRetention = TimeSpan.FromHours(24);

    [Fact]
    public async Task A_gracefully_stopped_worker_stays_stopped_when_its_name_registers_again()
    {
        var stopped = await RegisterAsync("w-stopped", name: "mailer", host: "box1");
        await Store.DeregisterWorkerAsync(stopped.Id);
        Time.Advance(TimeSpan.FromSeconds(1));
        var crashed = await RegisterAsync("w-crashed", name: "mailer", host: "box1");
        var id = await EnqueueAsync();
        await Store.LeaseAsync(new LeaseRequest(crashed.Id, ["default"], 1, TimeSpan.FromHours(1)));

        var result = await Store.RegisterWorkerAsync(TestJobs.Worker("w-new", Now, "mailer", "box1"));

        // Only the registration that never said goodbye is declared dead and loses its job.
        Assert.Equal(["w-crashed"], result.DeadWorkers);
        Assert.Equal([id], result.Reclaimed);
        var workers = await Query.ListWorkersAsync();
        Assert.Equal(WorkerState.Stopped, workers.Single(w => w.Registration.Id == "w-stopped").State);
        Assert.Equal(WorkerState.Dead, workers.Single(w => w.Registration.Id == "w-crashed").State);
        Assert.Equal(WorkerState.Active, workers.Single(w => w.Registration.Id == "w-new").State);
    }

    [Fact]
    public async Task A_worker_declared_dead_that_beats_again_is_alive_and_keeps_the_jobs_it_leases_after()
    {
        // A frozen process (SIGSTOP, a paused VM) outlives the dead-worker limit, then resumes.
        var frozen = await RegisterAsync("w-frozen");
        var lostJob = await EnqueueAsync();
        var before = Assert.Single(await LeaseAsync(worker: frozen.Id));
        Time.Advance(TimeSpan.FromMinutes(1));
        var declared = await Store.ReclaimAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["w-frozen"], declared.DeadWorkers);
        Assert.Equal([lostJob], declared.Reclaimed);

        // Its first beat learns that the old lease is gone; the beat itself says it is alive.
        var beat = await HeartbeatAsync(frozen, before.Token);
        Assert.Equal([before.Token], beat.Lost);
        Assert.Equal(WorkerState.Active, (await Query.ListWorkersAsync()).Single(w => w.Registration.Id == "w-frozen").State);

        // What it leases from now on is its own: the next passes take nothing from a worker that beats.
        var leased = await LeaseAsync(worker: frozen.Id);
        var again = Assert.Single(leased);
        Assert.Equal(lostJob, again.Token.JobId);
        Time.Advance(TimeSpan.FromSeconds(5));
        await HeartbeatAsync(frozen, again.Token);
        var next = await Store.ReclaimAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, next.Total);
        Assert.Empty(next.DeadWorkers);
        Assert.Equal(JobState.Running, (await Query.GetJobAsync(lostJob))!.State);
    }

    [Fact]
    public async Task A_restart_after_a_graceful_stop_reclaims_nothing_and_declares_nobody_dead()
    {
        var first = await RegisterAsync("w-first", name: "mailer");
        await Store.DeregisterWorkerAsync(first.Id);

        var result = await Store.RegisterWorkerAsync(TestJobs.Worker("w-second", Now, "mailer"));

        Assert.Equal(0, result.Total);
        Assert.Empty(result.DeadWorkers);
        Assert.Equal(WorkerState.Stopped, (await Query.ListWorkersAsync()).Single(w => w.Registration.Id == "w-first").State);
    }

    [Fact]
    public async Task Stopped_and_dead_workers_are_purged_once_silent_for_the_retention_and_live_ones_are_kept()
    {
        var stopped = await RegisterAsync("w-stopped", name: "a");
        await Store.DeregisterWorkerAsync(stopped.Id);
        await RegisterAsync("w-crashed", name: "b");
        var live = await RegisterAsync("w-live", name: "c");
        Time.Advance(TimeSpan.FromMinutes(1));
        await HeartbeatAsync(live);
        Assert.Equal(["w-crashed"], (await Store.ReclaimAsync(TimeSpan.FromSeconds(30))).DeadWorkers);

        Time.Advance(WorkerRetention - TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(1));
        await HeartbeatAsync(live);
        Assert.Equal(0, await Store.PurgeWorkersAsync(WorkerRetention));
        Assert.Equal(3, (await Query.ListWorkersAsync()).Count);

        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2, await Store.PurgeWorkersAsync(WorkerRetention));

        Assert.Equal(["w-live"], (await Query.ListWorkersAsync()).Select(w => w.Registration.Id));
        Assert.Equal(0, await Store.PurgeWorkersAsync(WorkerRetention));
    }

    [Fact]
    public async Task A_silent_worker_not_yet_declared_dead_is_not_purged()
    {
        // Declaring it dead and taking its jobs back is reclaim's work; the purge only removes what is over.
        await RegisterAsync("w-silent");
        Time.Advance(WorkerRetention * 2);

        Assert.Equal(0, await Store.PurgeWorkersAsync(WorkerRetention));
        Assert.Equal(WorkerState.Active, Assert.Single(await Query.ListWorkersAsync()).State);
    }

    [Fact]
    public async Task A_stopped_worker_that_still_owns_a_running_job_is_kept_until_the_job_is_reclaimed()
    {
        // A drain whose release failed deregisters anyway, leaving a job leased to the stopped worker until its lease ends.
        var worker = await RegisterAsync("w1");
        var id = await EnqueueAsync();
        await Store.LeaseAsync(new LeaseRequest(worker.Id, ["default"], 1, WorkerRetention * 2));
        await Store.DeregisterWorkerAsync(worker.Id);
        Time.Advance(WorkerRetention + TimeSpan.FromHours(1));

        Assert.Equal(0, await Store.PurgeWorkersAsync(WorkerRetention));
        Assert.Single(await Query.ListWorkersAsync());

        Time.Advance(WorkerRetention);
        Assert.Equal([id], (await Store.ReclaimAsync(TimeSpan.FromSeconds(30))).Reclaimed);
        Assert.Equal(1, await Store.PurgeWorkersAsync(WorkerRetention));
        Assert.Empty(await Query.ListWorkersAsync());
    }

    [Fact]
    public async Task A_name_whose_old_registrations_were_purged_registers_again_as_a_new_worker()
    {
        var old = await RegisterAsync("w-old", name: "mailer");
        await Store.DeregisterWorkerAsync(old.Id);
        Time.Advance(WorkerRetention + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Store.PurgeWorkersAsync(WorkerRetention));

        var result = await Store.RegisterWorkerAsync(TestJobs.Worker("w-new", Now, "mailer"));

        Assert.Equal(0, result.Total);
        Assert.Equal("w-new", Assert.Single(await Query.ListWorkersAsync()).Registration.Id);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task Purging_workers_refuses_a_retention_that_is_not_positive(int seconds)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.PurgeWorkersAsync(TimeSpan.FromSeconds(seconds)));

        Assert.Contains("retention must be positive", error.Message, StringComparison.Ordinal);
    }
}
