using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    private static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_unexpired_lease_is_not_reclaimed()
    {
        var id = await EnqueueAsync();
        await LeaseOneAsync();
        Time.Advance(LeaseLength - TimeSpan.FromSeconds(1));

        var result = await Store.ReclaimAsync(DeadAfter);

        Assert.Equal(0, result.Total);
        Assert.Equal(JobState.Running, (await GetAsync(id)).State);
        Assert.Empty(await Query.ListStalledAsync());
    }

    [Fact]
    public async Task An_expired_lease_is_reclaimed_to_ready_with_the_attempt_counted_and_a_crash_recorded()
    {
        var id = await EnqueueAsync();
        await LeaseOneAsync("w1");
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        Assert.Equal(id, Assert.Single(await Query.ListStalledAsync()).Id);

        var result = await Store.ReclaimAsync(DeadAfter);

        Assert.Equal([id], result.Reclaimed);
        Assert.Empty(result.Poisoned);
        var job = await GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(1, job.Attempt);
        Assert.Null(job.LeaseOwner);
        var error = Assert.Single(job.Errors);
        Assert.Equal(FailureCategory.Crash, error.Category);
        Assert.Equal(1, error.Attempt);
        Assert.Equal("w1", error.WorkerId);
        Assert.Empty(await Query.ListStalledAsync());

        var again = await LeaseOneAsync();
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task A_crash_on_the_last_attempt_dead_letters_the_job_as_poison()
    {
        var id = await EnqueueAsync(maxAttempts: 2);
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            await LeaseOneAsync();
            Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
            var result = await Store.ReclaimAsync(DeadAfter);
            if (attempt == 1)
            {
                Assert.Equal([id], result.Reclaimed);
            }
            else
            {
                Assert.Equal([id], result.Poisoned);
            }
        }

        var job = await GetAsync(id);
        Assert.Equal(JobState.DeadLetter, job.State);
        Assert.Contains("poison", job.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, job.Errors.Count);
        Assert.All(job.Errors, e => Assert.Equal(FailureCategory.Crash, e.Category));
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public async Task Reclaiming_a_job_whose_cancellation_was_requested_cancels_it()
    {
        var id = await EnqueueAsync();
        await LeaseOneAsync();
        await Store.CancelAsync(id);
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));

        var result = await Store.ReclaimAsync(DeadAfter);

        Assert.Equal([id], result.Cancelled);
        Assert.Equal(JobState.Cancelled, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task A_silent_worker_is_declared_dead_and_its_jobs_reclaimed_before_their_leases_expire()
    {
        var worker = await RegisterAsync("w-dead");
        var id = await EnqueueAsync();
        await Store.LeaseAsync(new LeaseRequest(worker.Id, ["default"], 1, TimeSpan.FromHours(1)));
        var alive = await RegisterAsync("w-alive", name: "other");
        Time.Advance(DeadAfter + TimeSpan.FromSeconds(1));
        await HeartbeatAsync(alive);

        var result = await Store.ReclaimAsync(DeadAfter);

        Assert.Equal(["w-dead"], result.DeadWorkers);
        Assert.Equal([id], result.Reclaimed);
        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
        var workers = await Query.ListWorkersAsync();
        Assert.Equal(WorkerState.Dead, workers.Single(w => w.Registration.Id == "w-dead").State);
        Assert.Equal(WorkerState.Active, workers.Single(w => w.Registration.Id == "w-alive").State);
    }

    [Fact]
    public async Task A_worker_that_beats_in_time_keeps_its_jobs()
    {
        var worker = await RegisterAsync("w1");
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync(worker.Id);
        for (var i = 0; i < 5; i++)
        {
            Time.Advance(LeaseLength / 2);
            var beat = await HeartbeatAsync(worker, leased.Token);
            Assert.Equal(1, beat.Renewed);
            Assert.Equal(0, (await Store.ReclaimAsync(LeaseLength)).Total);
        }

        Assert.Equal(JobState.Running, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task Registering_again_under_the_same_name_and_host_reclaims_the_predecessors_jobs()
    {
        var old = await RegisterAsync("w-old", name: "mailer", host: "box1");
        var id = await EnqueueAsync();
        await Store.LeaseAsync(new LeaseRequest(old.Id, ["default"], 1, TimeSpan.FromHours(1)));
        var otherHost = await RegisterAsync("w-elsewhere", name: "mailer", host: "box2");
        var otherId = await EnqueueAsync();
        await Store.LeaseAsync(new LeaseRequest(otherHost.Id, ["default"], 1, TimeSpan.FromHours(1)));

        var result = await Store.RegisterWorkerAsync(TestJobs.Worker("w-new", Now, "mailer", "box1"));

        Assert.Equal(["w-old"], result.DeadWorkers);
        Assert.Equal([id], result.Reclaimed);
        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
        Assert.Equal(JobState.Running, (await GetAsync(otherId)).State);
        var workers = await Query.ListWorkersAsync();
        Assert.Equal(WorkerState.Dead, workers.Single(w => w.Registration.Id == "w-old").State);
        Assert.Equal(WorkerState.Active, workers.Single(w => w.Registration.Id == "w-new").State);
    }

    [Fact]
    public async Task A_heartbeat_renews_every_held_lease_from_the_store_clock()
    {
        var worker = await RegisterAsync("w1");
        var a = await EnqueueAsync();
        var b = await EnqueueAsync();
        var leased = await LeaseAsync(2, worker.Id);
        Time.Advance(TimeSpan.FromSeconds(7));

        var beat = await HeartbeatAsync(worker, [.. leased.Select(l => l.Token)]);

        Assert.Equal(2, beat.Renewed);
        Assert.Empty(beat.Lost);
        Assert.Empty(beat.CancelRequested);
        Assert.Equal(Now + LeaseLength, (await GetAsync(a)).LeaseExpiresAt);
        Assert.Equal(Now + LeaseLength, (await GetAsync(b)).LeaseExpiresAt);
        Time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal(0, (await Store.ReclaimAsync(DeadAfter)).Total);
    }

    [Fact]
    public async Task A_heartbeat_updates_the_workers_registration()
    {
        var worker = await RegisterAsync("w1");
        Time.Advance(TimeSpan.FromSeconds(5));

        await HeartbeatAsync(worker with { State = WorkerState.Draining, ActiveJobs = 3, MemoryBytes = 1234 });

        var info = Assert.Single(await Query.ListWorkersAsync());
        Assert.Equal(Now, info.HeartbeatAt);
        Assert.Equal(WorkerState.Draining, info.State);
        Assert.Equal(3, info.Registration.ActiveJobs);
        Assert.Equal(1234, info.Registration.MemoryBytes);
    }

    [Fact]
    public async Task A_heartbeat_reports_leases_the_store_no_longer_grants()
    {
        var worker = await RegisterAsync("w1");
        await EnqueueAsync();
        await EnqueueAsync();
        var leased = await LeaseAsync(2, worker.Id);
        await FinishAsync(JobOutcome.Complete(leased[0].Token));
        var stale = new LeaseToken(leased[1].Id, leased[1].Token.Epoch - 1);

        var beat = await HeartbeatAsync(worker, leased[0].Token, stale, new LeaseToken(999_999, 1));

        Assert.Equal(0, beat.Renewed);
        Assert.Equal(3, beat.Lost.Count);
        Assert.Contains(leased[0].Token, beat.Lost);
        Assert.Contains(stale, beat.Lost);
    }

    [Fact]
    public async Task A_heartbeat_reports_a_lease_reclaimed_and_taken_by_another_worker_as_lost()
    {
        var worker = await RegisterAsync("w1");
        var id = await EnqueueAsync();
        var mine = await LeaseOneAsync(worker.Id);
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        await Store.ReclaimAsync(TimeSpan.FromHours(1));
        var theirs = await LeaseOneAsync("w2");

        var beat = await HeartbeatAsync(worker, mine.Token);

        Assert.Equal([mine.Token], beat.Lost);
        Assert.Equal(theirs.LeaseExpiresAt, (await GetAsync(id)).LeaseExpiresAt);
    }

    [Fact]
    public async Task A_heartbeat_reports_cancellation_requests_and_keeps_the_lease()
    {
        var worker = await RegisterAsync("w1");
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync(worker.Id);
        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));

        var beat = await HeartbeatAsync(worker, leased.Token);

        Assert.Equal([leased.Token], beat.CancelRequested);
        Assert.Empty(beat.Lost);
        var job = await GetAsync(id);
        Assert.True(job.CancelRequested);
        Assert.Equal(JobState.Running, job.State);
    }

    [Fact]
    public async Task Deregistering_marks_the_worker_stopped()
    {
        await RegisterAsync("w1");

        await Store.DeregisterWorkerAsync("w1");

        Assert.Equal(WorkerState.Stopped, Assert.Single(await Query.ListWorkersAsync()).State);
    }

    [Fact]
    public async Task Workers_are_listed_newest_heartbeat_first()
    {
        var a = await RegisterAsync("a", name: "a");
        Time.Advance(TimeSpan.FromSeconds(1));
        await RegisterAsync("b", name: "b");
        Time.Advance(TimeSpan.FromSeconds(1));
        await HeartbeatAsync(a);

        var workers = await Query.ListWorkersAsync();

        Assert.Equal(["a", "b"], workers.Select(w => w.Registration.Id));
        Assert.Equal(["default"], workers[0].Registration.Queues);
        Assert.Equal("host-a", workers[0].Registration.Host);
    }
}
