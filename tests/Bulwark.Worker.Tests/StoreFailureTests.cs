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
        Assert.Equal(1, h.Runtime.ActiveJobs); // the lease stays held (and renewed) until the outcome is written
        Assert.Equal(JobState.Running, (await h.GetAsync(id)).State);
        Assert.True(h.Counter("bulwark.persistence.errors") >= 1);

        h.Faults.Heal();
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
        Assert.Equal(4, (await h.Maintenance.RunOnceAsync()).Errors); // promote, reclaim, expire, purge: each counted, none thrown

        h.Faults.Heal();
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.True(h.Runtime.IsReady);
        await h.WaitForStateAsync(id, JobState.Completed);
    }
}
