using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>
/// Idempotency keys under real concurrency: many tasks on several store instances (other processes or machines, as far
/// as the store can tell: another connection to the same SQLite file, another data source on the same database).
/// </summary>
public abstract partial class JobStoreContractTests
{
    private const int KeyCallersPerInstance = 16;

    private async Task<IJobStore[]> ThreeInstancesAsync() => [Store, (await OpenPeerAsync()).Store, (await OpenPeerAsync()).Store];

    [Fact]
    public async Task Concurrent_enqueues_of_one_key_from_several_instances_store_one_job_and_every_caller_gets_its_id()
    {
        var instances = await ThreeInstancesAsync();
        for (var round = 0; round < 4; round++)
        {
            var key = $"order-{round}";
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var callers = Enumerable.Range(0, instances.Length * KeyCallersPerInstance).Select(i => Task.Run(async () =>
            {
                await start.Task;
                var store = instances[i % instances.Length];
                // Some callers send the key alone, some in a batch beside an unkeyed job (a different statement path).
                var results = i % 3 == 0
                    ? await store.EnqueueAsync([TestJobs.New("keys"), TestJobs.New("keys", key: key)])
                    : await store.EnqueueAsync([TestJobs.New("keys", key: key)]);
                return results[^1];
            })).ToArray();
            start.SetResult();

            var results = await Task.WhenAll(callers);

            var id = Assert.Single(results.Select(r => r.Id).Distinct());
            Assert.Single(results, r => !r.Deduplicated);
            var job = await GetAsync(id);
            Assert.Equal((key, JobState.Ready), (job.Key, job.State));
            Assert.Equal(id, (await Query.FindByKeyAsync(key))!.Id);
        }

        // Nothing else was lost or doubled: the unkeyed jobs of the batches are all there, and one job per key.
        var stored = (await Query.ListJobsAsync(new JobListQuery("keys", Limit: JobListQuery.MaxLimit))).Items;
        Assert.Equal(4, stored.Count(j => j.Key is not null));
        Assert.Equal(4 * Enumerable.Range(0, instances.Length * KeyCallersPerInstance).Count(i => i % 3 == 0), stored.Count(j => j.Key is null));
    }

    [Fact]
    public async Task Retries_racing_enqueues_of_the_same_key_leave_one_live_job_and_every_refusal_names_it()
    {
        var instances = await ThreeInstancesAsync();
        var old = await EnqueueAsync(TestJobs.New("keys", key: "invoice-1"));
        await FinishAsync(OutcomeOf(OutcomeKind.DeadLetter, (await LeaseOneAsync(queue: "keys")).Token));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var enqueues = Enumerable.Range(0, instances.Length * 4).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return (await instances[i % instances.Length].EnqueueAsync([TestJobs.New("keys", key: "invoice-1")]))[0].Id;
        })).ToArray();
        var retries = Enumerable.Range(0, instances.Length * 4).Select(i => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                return (Result: await instances[i % instances.Length].RetryAsync(old), Holder: (long?)null);
            }
            catch (JobConflictException conflict) when (conflict.Kind == JobConflictKind.KeyHeld)
            {
                return (Result: AdminResult.InvalidState, Holder: conflict.ConflictingJobId);
            }
        })).ToArray();
        start.SetResult();

        var ids = await Task.WhenAll(enqueues);
        var retried = await Task.WhenAll(retries);

        var live = Assert.Single(ids.Distinct());
        Assert.Equal(live, (await Query.FindByKeyAsync("invoice-1"))!.Id);
        Assert.False((await GetAsync(live)).State.IsTerminal());
        // The old job came back only if it became the holder; a refusal names the holder; at most one retry went through.
        Assert.True(retried.Count(r => r.Result == AdminResult.Ok) <= 1);
        Assert.Equal(live == old, retried.Any(r => r.Result == AdminResult.Ok));
        Assert.All(retried.Where(r => r.Holder is not null), r => Assert.Equal(live, r.Holder));
        if (live != old)
        {
            Assert.Equal(JobState.DeadLetter, (await GetAsync(old)).State);
        }
    }
}
