using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task A_drain_releases_unfinished_jobs_as_Shutdown_with_the_attempt_refunded()
    {
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("long", async (_, ctx) => await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken)),
            o => o.ShutdownTimeout = TimeSpan.Zero);
        var id = await h.EnqueueAsync("long");
        await h.Runtime.RunOnceAsync();
        Assert.Equal(1, (await h.GetAsync(id)).Attempt);

        Assert.Equal(1, await h.Runtime.DrainAsync(CancellationToken.None));
        var job = await h.GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(FailureCategory.Shutdown, Assert.Single(job.Errors).Category);
        Assert.Equal(0, h.Runtime.ActiveJobs);
        Assert.True(h.Runtime.IsDraining);
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
    }

    [Fact]
    public async Task A_drain_waits_for_jobs_that_finish_within_the_shutdown_timeout()
    {
        var release = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("short", async (_, _) => await release.Task));
        var id = await h.EnqueueAsync("short");
        await h.Runtime.RunOnceAsync();

        var drain = h.Runtime.DrainAsync(CancellationToken.None);
        Assert.False(drain.IsCompleted);
        release.SetResult();
        Assert.Equal(0, await drain);
        Assert.Equal(JobState.Completed, (await h.GetAsync(id)).State);
    }

    [Fact]
    public async Task A_handler_ignoring_its_token_at_shutdown_is_released_anyway_after_the_grace()
    {
        var never = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("hang", async (_, _) => await never.Task),
            o => { o.ShutdownTimeout = TimeSpan.Zero; o.AbandonGracePeriod = TimeSpan.Zero; });
        var id = await h.EnqueueAsync("hang");
        await h.Runtime.RunOnceAsync();
        Assert.Equal(1, await h.Runtime.DrainAsync(CancellationToken.None));
        var job = await h.GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        never.SetResult();
    }

    [Fact]
    public async Task A_draining_worker_heartbeats_as_Draining_and_deregisters_as_Stopped()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        await h.Runtime.DrainAsync(CancellationToken.None);
        await h.Runtime.HeartbeatOnceAsync();
        Assert.Equal(WorkerState.Draining, (await h.Store.ListWorkersAsync()).Single(w => w.Registration.Id == h.Runtime.Id).State);
        await h.Runtime.DeregisterAsync(CancellationToken.None);
        Assert.Equal(WorkerState.Stopped, (await h.Store.ListWorkersAsync()).Single(w => w.Registration.Id == h.Runtime.Id).State);
    }
}
