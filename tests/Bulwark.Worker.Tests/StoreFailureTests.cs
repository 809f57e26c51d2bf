using Bulwark.Hosting;
using Bulwark.Jobs;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class StoreFailureTests
{
    [Fact]
    public async Task Outcomes_that_fail_to_write_stay_queued_and_are_written_once_the_store_heals()
    {
        var gate = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("gated", async (_, _) => await gate.Task));
        var id = await h.EnqueueAsync("gated");
        await h.Runtime.RunOnceAsync();

        h.Faults.FailWrites();
        gate.SetResult();
        await Poll.UntilAsync(() => Task.FromResult(h.Runtime.Completer.PendingCount == 1), TimeSpan.FromSeconds(10), () => "the outcome was not submitted");
        Assert.Equal(0, await h.Runtime.Completer.RunOnceAsync());
        Assert.Equal(1, h.Runtime.Completer.PendingCount);
        Assert.Equal(0, h.Runtime.ActiveJobs); // the handler's slot is free again …
        Assert.Equal(1, h.Runtime.FinishingJobs); // … but its lease stays held until the outcome is written
        var running = await h.GetAsync(id);
        Assert.Equal(JobState.Running, running.State);
        Assert.True(h.Counter("bulwark.persistence.errors") >= 1);

        h.Faults.Heal();
        h.Time.Advance(TimeSpan.FromSeconds(1));
        var beat = await h.Runtime.HeartbeatOnceAsync();
        Assert.Empty(beat!.Lost);
        Assert.True((await h.GetAsync(id)).LeaseExpiresAt > running.LeaseExpiresAt, "the heartbeat did not renew the lease of the job whose outcome is waiting");
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task A_failing_store_makes_the_worker_unready_without_crashing_it_and_it_recovers()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        var id = await h.EnqueueAsync("noop");
        Assert.True(h.Runtime.IsReady);

        h.Faults.FailWrites();
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Null(await h.Runtime.HeartbeatOnceAsync());
        Assert.False(h.Runtime.IsStoreReachable);
        Assert.False(h.Runtime.IsReady);
        Assert.Equal(5, (await h.Maintenance.RunOnceAsync()).Errors); // promote, reclaim, expire, purge jobs, purge workers: each counted, none thrown

        h.Faults.Heal();
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.True(h.Runtime.IsReady);
        await h.WaitForStateAsync(id, JobState.Completed);
    }
}
