using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task Enqueue_stores_a_ready_job_with_every_field()
    {
        var job = TestJobs.New("email", "email.send", priority: 5, maxAttempts: 7, key: "order-1", expiresAt: Now.AddHours(1), payload: """{"to":"a@b.c"}""") with
        {
            Timeout = TimeSpan.FromMinutes(2),
            Backoff = BackoffPolicy.Parse("1s,5s,30s"),
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        };

        var id = await EnqueueAsync(job);

        var stored = await GetAsync(id);
        Assert.True(id > 0);
        Assert.Equal(JobState.Ready, stored.State);
        Assert.Equal("email", stored.Queue);
        Assert.Equal("email.send", stored.Type);
        Assert.Equal("""{"to":"a@b.c"}""", stored.Payload);
        Assert.Equal(5, stored.Priority);
        Assert.Equal(7, stored.MaxAttempts);
        Assert.Equal(TimeSpan.FromMinutes(2), stored.Timeout);
        Assert.Equal(BackoffPolicy.Parse("1s,5s,30s"), stored.Backoff);
        Assert.Equal("order-1", stored.Key);
        Assert.Equal(Now.AddHours(1), stored.ExpiresAt);
        Assert.Equal(job.TraceParent, stored.TraceParent);
        Assert.Equal(Now, stored.CreatedAt);
        Assert.Equal(Now, stored.RunAt);
        Assert.Equal(0, stored.Attempt);
        Assert.Equal(0, stored.LeaseEpoch);
        Assert.Null(stored.LeaseOwner);
        Assert.Empty(stored.Errors);
    }

    [Fact]
    public async Task Ids_increase_with_every_enqueue()
    {
        var ids = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await EnqueueAsync());
        }

        Assert.Equal(ids.OrderBy(i => i), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task A_delayed_job_lands_scheduled_and_a_past_run_at_lands_ready()
    {
        var later = await EnqueueAsync(TestJobs.New(runAt: Now.AddMinutes(5)));
        var past = await EnqueueAsync(TestJobs.New(runAt: Now.AddMinutes(-5)));

        Assert.Equal(JobState.Scheduled, (await GetAsync(later)).State);
        Assert.Equal(Now.AddMinutes(5), (await GetAsync(later)).RunAt);
        Assert.Equal(JobState.Ready, (await GetAsync(past)).State);
    }

    [Fact]
    public async Task A_live_idempotency_key_returns_the_existing_job()
    {
        var first = await Store.EnqueueAsync([TestJobs.New(key: "k1")]);
        var second = await Store.EnqueueAsync([TestJobs.New(key: "k1", payload: """{"other":1}""")]);

        Assert.False(first[0].Deduplicated);
        Assert.True(second[0].Deduplicated);
        Assert.Equal(first[0].Id, second[0].Id);
        Assert.Equal("{}", (await GetAsync(first[0].Id)).Payload);
        var page = await Query.ListJobsAsync(new JobListQuery());
        Assert.Single(page.Items);
    }

    [Fact]
    public async Task A_key_held_by_a_running_job_is_still_live()
    {
        var id = (await Store.EnqueueAsync([TestJobs.New(key: "k1")]))[0].Id;
        await LeaseOneAsync();

        var again = await Store.EnqueueAsync([TestJobs.New(key: "k1")]);

        Assert.True(again[0].Deduplicated);
        Assert.Equal(id, again[0].Id);
    }

    [Fact]
    public async Task A_key_is_free_again_once_its_job_is_terminal()
    {
        var first = (await Store.EnqueueAsync([TestJobs.New(key: "k1")]))[0].Id;
        var leased = await LeaseOneAsync();
        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Complete(leased.Token)));

        var second = await Store.EnqueueAsync([TestJobs.New(key: "k1")]);

        Assert.False(second[0].Deduplicated);
        Assert.NotEqual(first, second[0].Id);
        Assert.Equal(second[0].Id, (await Query.FindByKeyAsync("k1"))!.Id);
    }

    [Fact]
    public async Task The_same_key_twice_in_one_batch_stores_one_job()
    {
        var results = await Store.EnqueueAsync([TestJobs.New(key: "k1"), TestJobs.New(key: "k1")]);

        Assert.False(results[0].Deduplicated);
        Assert.True(results[1].Deduplicated);
        Assert.Equal(results[0].Id, results[1].Id);
    }

    [Fact]
    public async Task A_batch_with_an_unknown_dependency_stores_nothing()
    {
        var ok = TestJobs.New();
        var bad = TestJobs.New(dependsOn: [999_999]);

        var ex = await Assert.ThrowsAsync<JobValidationException>(() => Store.EnqueueAsync([ok, bad]));

        Assert.Contains("999999", ex.Message.Replace(",", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Empty((await Query.ListJobsAsync(new JobListQuery())).Items);
    }

    [Fact]
    public async Task A_batch_is_stored_whole_with_increasing_ids_in_order()
    {
        var results = await Store.EnqueueAsync([TestJobs.New("a"), TestJobs.New("b"), TestJobs.New("c")]);

        Assert.Equal(3, results.Count);
        Assert.True(results[0].Id < results[1].Id && results[1].Id < results[2].Id);
        Assert.Equal("b", (await GetAsync(results[1].Id)).Queue);
    }

    [Fact]
    public async Task Batch_indexes_resolve_to_the_ids_of_earlier_entries()
    {
        var parent = TestJobs.New(type: "parent");
        var child = TestJobs.New(type: "child") with { DependsOnBatchIndexes = [0] };
        var grandchild = TestJobs.New(type: "grandchild") with { DependsOnBatchIndexes = [0, 1] };

        var results = await Store.EnqueueAsync([parent, child, grandchild]);

        var c = await GetAsync(results[1].Id);
        var g = await GetAsync(results[2].Id);
        Assert.Equal(JobState.Ready, (await GetAsync(results[0].Id)).State);
        Assert.Equal(JobState.Pending, c.State);
        Assert.Equal([results[0].Id], c.DependsOn);
        Assert.Equal(JobState.Pending, g.State);
        Assert.Equal(new[] { results[0].Id, results[1].Id }, g.DependsOn.OrderBy(i => i));
    }

    [Fact]
    public async Task A_dependency_on_a_completed_job_is_already_met()
    {
        var parent = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Complete(leased.Token));

        var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent]));

        Assert.Equal(JobState.Ready, (await GetAsync(child)).State);
    }
}
