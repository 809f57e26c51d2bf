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

    [Fact]
    public async Task Outcomes_waiting_in_the_completer_at_shutdown_are_written_by_the_drain_even_on_a_slow_store()
    {
        var logs = new CapturingLoggerFactory();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("quick", (_, _) => Task.CompletedTask), o => o.ShutdownTimeout = TimeSpan.Zero, logging: logs);
        var ids = new[] { await h.EnqueueAsync("quick"), await h.EnqueueAsync("quick") };
        await h.Runtime.RunOnceAsync();
        await Poll.UntilAsync(() => Task.FromResult(h.Runtime.Completer.PendingCount == 2), TimeSpan.FromSeconds(30), () => "both outcomes wait in the completer (no completer loop runs in the harness)");

        h.Faults.BeforeFinish = async (_, ct) =>
        {
            entered.TrySetResult();
            await slow.Task.WaitAsync(ct);
        };
        var drain = h.Runtime.DrainAsync(CancellationToken.None);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(drain.IsCompleted);
        slow.SetResult();
        await drain.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(ids, id => Assert.Equal(JobState.Completed, h.GetAsync(id).Result.State));
        Assert.Equal(2, logs.Entries.Count(e => e.EventId == 1017));
        Assert.Equal(0, h.Runtime.FinishingJobs);
    }

    [Fact]
    public async Task A_batch_write_that_outlasts_the_budget_leaves_each_outcome_written_alone_and_logged()
    {
        var (h, logs, ids) = await WithWaitingOutcomesAsync(2);
        await using var _ = h;

        // The batch of two never returns (until the budget cancels it); one outcome at a time goes through.
        h.Faults.BeforeFinish = (outcomes, ct) => outcomes.Count > 1 ? Task.Delay(Timeout.InfiniteTimeSpan, ct) : Task.CompletedTask;
        await h.Runtime.DrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(ids, id => Assert.Equal(JobState.Completed, h.GetAsync(id).Result.State));
        var written = logs.Entries.Where(e => e.EventId == 1030).Select(e => e.Message).ToArray();
        Assert.All(ids, id => Assert.Contains(written, m => m.Contains($"job {id} ", StringComparison.Ordinal)));
        Assert.Contains(logs.Entries, e => e.EventId == 1033 && e.Message.Contains("2 outcomes were still waiting", StringComparison.Ordinal) && e.Message.Contains("2 written alone, 0 released, 0 neither", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_outcome_the_store_will_not_take_at_shutdown_is_replaced_by_a_release_and_the_log_names_the_job()
    {
        var (h, logs, ids) = await WithWaitingOutcomesAsync(1);
        await using var _ = h;
        var id = ids[0];

        // As PostgreSQL refuses a result it cannot store (jsonb and \u0000): completions fail, a release goes through.
        h.Faults.BeforeFinish = (outcomes, _) => outcomes.Any(o => o.Kind == OutcomeKind.Complete)
            ? throw new InvalidOperationException("the store refuses this result")
            : Task.CompletedTask;
        await h.Runtime.DrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        var job = await h.GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        var error = Assert.Single(job.Errors);
        Assert.Equal(FailureCategory.Shutdown, error.Category);
        Assert.Contains("Complete outcome (the store refuses this result)", error.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.EventId == 1031 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains($"job {id} ", StringComparison.Ordinal));
        Assert.Equal(0, h.Runtime.FinishingJobs);
    }

    [Fact]
    public async Task When_the_store_takes_nothing_at_shutdown_the_drain_ends_within_its_budget_and_logs_each_job_left_to_lease_expiry()
    {
        var (h, logs, ids) = await WithWaitingOutcomesAsync(1);
        await using var _ = h;
        var id = ids[0];

        h.Faults.FailWrites();
        await h.Runtime.DrainAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(JobState.Running, (await h.GetAsync(id)).State);
        Assert.Contains(logs.Entries, e => e.EventId == 1032 && e.Level == Microsoft.Extensions.Logging.LogLevel.Error
            && e.Message.Contains($"job {id} could be neither written nor released", StringComparison.Ordinal));
        Assert.Equal(0, h.Runtime.Completer.PendingCount);
        Assert.Equal(0, h.Runtime.FinishingJobs);

        // Nothing is lost: once the lease lapses, maintenance takes the job back.
        h.Faults.Heal();
        h.Time.Advance(h.Options.LeaseDuration + TimeSpan.FromSeconds(1));
        await h.Maintenance.RunOnceAsync();
        Assert.Equal(JobState.Ready, (await h.GetAsync(id)).State);
    }

    /// <summary>A worker (no shutdown wait, a 4 s finish budget: its last quarter must hold a cold first write) whose <paramref name="count"/> completions wait in its completer: the harness runs no completer loop.</summary>
    private static async Task<(WorkerHarness Harness, CapturingLoggerFactory Logs, long[] Ids)> WithWaitingOutcomesAsync(int count)
    {
        var logs = new CapturingLoggerFactory();
        var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("quick", (_, _) => Task.CompletedTask),
            o => { o.ShutdownTimeout = TimeSpan.Zero; o.FinishBudget = TimeSpan.FromSeconds(4); }, logging: logs);
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = await h.EnqueueAsync("quick");
        }

        await h.Runtime.RunOnceAsync();
        await Poll.UntilAsync(() => Task.FromResult(h.Runtime.Completer.PendingCount == count), TimeSpan.FromSeconds(30), () => $"{count} outcome(s) wait in the completer");
        return (h, logs, ids);
    }
}
