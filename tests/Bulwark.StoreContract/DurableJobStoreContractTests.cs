using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>The contract for stores that keep their data across a restart: everything acknowledged survives a reopen.</summary>
public abstract class DurableJobStoreContractTests : JobStoreContractTests
{
    /// <summary>Disposes the current store and opens the same data again (same clock); the base swaps Store/Query.</summary>
    protected abstract Task<(IJobStore Store, IJobQuery Query)> ReopenAsync(FakeTimeProvider time);

    /// <summary>Reopens and swaps in the new instance.</summary>
    protected async Task ReopenStoreAsync() => Swap(await ReopenAsync(Time));

    [Fact]
    public async Task Every_acknowledged_job_survives_a_reopen_with_all_its_fields()
    {
        var ids = new List<long>();
        var completed = await EnqueueAsync(TestJobs.New("q", key: "done-key", payload: """{"a":[1,2]}"""));
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync(queue: "q")).Token, """{"r":1}"""));
        var failed = await EnqueueAsync("q");
        var leasedFailed = await LeaseOneAsync(queue: "q");
        await FinishAsync(JobOutcome.Retry(leasedFailed.Token, ErrorOf(leasedFailed, message: "first"), TimeSpan.Zero));
        leasedFailed = await LeaseOneAsync(queue: "q");
        await FinishAsync(JobOutcome.Fail(leasedFailed.Token, ErrorOf(leasedFailed, FailureCategory.Permanent, "second")));
        var running = await EnqueueAsync(TestJobs.New("r", priority: 3, expiresAt: Now.AddDays(1)) with { Backoff = BackoffPolicy.Parse("fixed(5s)"), Timeout = TimeSpan.FromSeconds(90) });
        var leasedRunning = await LeaseOneAsync("w9", queue: "r");
        await Store.SaveProgressAsync(leasedRunning.Token, 60, """{"page":6}""");
        var scheduled = await EnqueueAsync(TestJobs.New("s", runAt: Now.AddHours(2), key: "live-key"));
        var pending = await EnqueueAsync(TestJobs.New("s", dependsOn: [scheduled]));
        ids.AddRange([completed, failed, running, scheduled, pending]);
        var before = new List<JobSnapshot>();
        foreach (var id in ids)
        {
            before.Add(await GetAsync(id));
        }

        await ReopenStoreAsync();

        for (var i = 0; i < ids.Count; i++)
        {
            AssertSameJob(before[i], await GetAsync(ids[i]));
        }

        Assert.True((await Store.EnqueueAsync([TestJobs.New(key: "live-key")]))[0].Deduplicated);
        Assert.True((await EnqueueAsync()) > ids.Max());
    }

    [Fact]
    public async Task A_running_jobs_lease_still_fences_after_a_reopen()
    {
        var id = await EnqueueAsync();
        var stale = await LeaseOneAsync("w1");
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        await Store.ReclaimAsync(TimeSpan.FromMinutes(10));
        var current = await LeaseOneAsync("w2");

        await ReopenStoreAsync();

        Assert.Equal(FenceResult.LeaseLost, await FinishAsync(JobOutcome.Complete(stale.Token)));
        Assert.Equal(FenceResult.LeaseLost, await Store.SaveProgressAsync(stale.Token, 1, null));
        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Complete(current.Token)));
        Assert.Equal(JobState.Completed, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task Epochs_keep_rising_after_a_reopen()
    {
        await EnqueueAsync();
        var first = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Release(first.Token, ErrorOf(first, FailureCategory.Shutdown)));

        await ReopenStoreAsync();

        var second = await LeaseOneAsync();
        Assert.True(second.Token.Epoch > first.Token.Epoch);
    }

    [Fact]
    public async Task An_expired_lease_found_after_a_reopen_is_reclaimed()
    {
        var id = await EnqueueAsync();
        await LeaseOneAsync();

        await ReopenStoreAsync();
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));

        Assert.Equal([id], (await Store.ReclaimAsync(TimeSpan.FromMinutes(10))).Reclaimed);
    }

    [Fact]
    public async Task Paused_queues_and_workers_survive_a_reopen()
    {
        await EnqueueAsync("paused");
        await Store.SetQueuePausedAsync("paused", true);
        await RegisterAsync("w1");

        await ReopenStoreAsync();

        Assert.True((await Query.GetQueuesAsync()).Single(q => q.Queue == "paused").Paused);
        Assert.Empty(await LeaseAsync(1, "w1", null, "paused"));
        var worker = Assert.Single(await Query.ListWorkersAsync());
        Assert.Equal("w1", worker.Registration.Id);
        Assert.Equal(WorkerState.Active, worker.State);
    }

    /// <summary>Asserts two snapshots of one job agree on every field.</summary>
    protected static void AssertSameJob(JobSnapshot expected, JobSnapshot actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Queue, actual.Queue);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Payload, actual.Payload);
        Assert.Equal(expected.Priority, actual.Priority);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.RunAt, actual.RunAt);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.MaxAttempts, actual.MaxAttempts);
        Assert.Equal(expected.Timeout, actual.Timeout);
        Assert.Equal(expected.Backoff, actual.Backoff);
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.DependsOn.Order(), actual.DependsOn.Order());
        Assert.Equal(expected.ExpiresAt, actual.ExpiresAt);
        Assert.Equal(expected.Attempt, actual.Attempt);
        Assert.Equal(expected.LeaseEpoch, actual.LeaseEpoch);
        Assert.Equal(expected.LeaseOwner, actual.LeaseOwner);
        Assert.Equal(expected.LeaseExpiresAt, actual.LeaseExpiresAt);
        Assert.Equal(expected.Progress, actual.Progress);
        Assert.Equal(expected.Checkpoint, actual.Checkpoint);
        Assert.Equal(expected.Result, actual.Result);
        Assert.Equal(expected.Errors, actual.Errors);
        Assert.Equal(expected.TraceParent, actual.TraceParent);
        Assert.Equal(expected.Reason, actual.Reason);
        Assert.Equal(expected.CancelRequested, actual.CancelRequested);
        Assert.Equal(expected.StartedAt, actual.StartedAt);
        Assert.Equal(expected.FinishedAt, actual.FinishedAt);
    }
}
