using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task A_lease_charges_an_attempt_raises_the_epoch_and_records_the_owner()
    {
        var id = await EnqueueAsync(TestJobs.New(payload: """{"n":1}""", maxAttempts: 4));

        var leased = await LeaseOneAsync("w7");

        Assert.Equal(id, leased.Id);
        Assert.Equal(1, leased.Attempt);
        Assert.Equal(4, leased.MaxAttempts);
        Assert.Equal("""{"n":1}""", leased.Payload);
        Assert.Equal(Now + LeaseLength, leased.LeaseExpiresAt);
        var stored = await GetAsync(id);
        Assert.Equal(JobState.Running, stored.State);
        Assert.Equal(1, stored.Attempt);
        Assert.Equal(leased.Token.Epoch, stored.LeaseEpoch);
        Assert.True(leased.Token.Epoch > 0);
        Assert.Equal("w7", stored.LeaseOwner);
        Assert.Equal(Now + LeaseLength, stored.LeaseExpiresAt);
        Assert.Equal(Now, stored.StartedAt);
    }

    [Fact]
    public async Task Leasing_follows_priority_then_run_at_then_id()
    {
        var low = await EnqueueAsync(TestJobs.New(priority: 0));
        var laterRunAt = await EnqueueAsync(TestJobs.New(priority: 5, runAt: Now.AddSeconds(-1)));
        var earlierRunAt = await EnqueueAsync(TestJobs.New(priority: 5, runAt: Now.AddSeconds(-10)));
        var sameRunAtFirst = await EnqueueAsync(TestJobs.New(priority: 1, runAt: Now.AddSeconds(-3)));
        var sameRunAtSecond = await EnqueueAsync(TestJobs.New(priority: 1, runAt: Now.AddSeconds(-3)));
        var high = await EnqueueAsync(TestJobs.New(priority: 9));

        var order = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            order.Add((await LeaseOneAsync()).Id);
        }

        Assert.Equal([high, earlierRunAt, laterRunAt, sameRunAtFirst, sameRunAtSecond, low], order);
    }

    [Fact]
    public async Task A_batch_lease_returns_jobs_in_order()
    {
        var a = await EnqueueAsync(priority: 1);
        var b = await EnqueueAsync(priority: 3);
        var c = await EnqueueAsync(priority: 2);

        var leased = await LeaseAsync(max: 10);

        Assert.Equal([b, c, a], leased.Select(l => l.Id));
    }

    [Fact]
    public async Task Earlier_queues_in_the_request_are_served_first()
    {
        var lowPriorityPreferred = await EnqueueAsync("critical", priority: 0);
        var highPriorityOther = await EnqueueAsync("bulk", priority: 100);

        var first = await LeaseAsync(1, "w1", null, "critical", "bulk");
        var second = await LeaseAsync(1, "w1", null, "critical", "bulk");
        var none = await LeaseAsync(1, "w1", null, "critical", "bulk");

        Assert.Equal(lowPriorityPreferred, Assert.Single(first).Id);
        Assert.Equal(highPriorityOther, Assert.Single(second).Id);
        Assert.Empty(none);
    }

    [Fact]
    public async Task Other_queues_are_not_leased()
    {
        await EnqueueAsync("other");

        Assert.Empty(await LeaseAsync(5));
    }

    [Fact]
    public async Task A_scheduled_job_is_not_leased_before_it_is_due_and_is_leased_once_due()
    {
        var id = await EnqueueAsync(TestJobs.New(runAt: Now.AddSeconds(30)));
        Assert.Empty(await LeaseAsync());

        Time.Advance(TimeSpan.FromSeconds(31));

        Assert.Equal(id, (await LeaseOneAsync()).Id);
    }

    [Fact]
    public async Task PromoteDue_moves_only_due_scheduled_jobs_to_ready()
    {
        var soon = await EnqueueAsync(TestJobs.New(runAt: Now.AddSeconds(10)));
        var late = await EnqueueAsync(TestJobs.New(runAt: Now.AddSeconds(100)));
        Time.Advance(TimeSpan.FromSeconds(11));

        Assert.Equal(1, await Store.PromoteDueAsync());
        Assert.Equal(0, await Store.PromoteDueAsync());
        Assert.Equal(JobState.Ready, (await GetAsync(soon)).State);
        Assert.Equal(JobState.Scheduled, (await GetAsync(late)).State);
    }

    [Fact]
    public async Task Excluded_types_are_not_leased()
    {
        var blocked = await EnqueueAsync(TestJobs.New(type: "broken", priority: 10));
        var other = await EnqueueAsync(TestJobs.New(type: "fine"));

        var leased = await Store.LeaseAsync(new LeaseRequest("w1", ["default"], 10, LeaseLength) { ExcludedTypes = ["broken"] });

        Assert.Equal(other, Assert.Single(leased).Id);
        Assert.Equal(JobState.Ready, (await GetAsync(blocked)).State);
    }

    [Fact]
    public async Task A_paused_queue_is_not_leased_until_resumed()
    {
        var id = await EnqueueAsync();
        await Store.SetQueuePausedAsync("default", true);

        Assert.Empty(await LeaseAsync());
        Assert.True((await Query.GetQueuesAsync()).Single(q => q.Queue == "default").Paused);

        await Store.SetQueuePausedAsync("default", false);
        Assert.Equal(id, (await LeaseOneAsync()).Id);
    }

    [Fact]
    public async Task Pausing_one_queue_leaves_the_others_leasable()
    {
        await EnqueueAsync("a");
        var b = await EnqueueAsync("b");
        await Store.SetQueuePausedAsync("a", true);

        var leased = await LeaseAsync(5, "w1", null, "a", "b");

        Assert.Equal(b, Assert.Single(leased).Id);
    }

    [Fact]
    public async Task A_running_job_is_not_leased_again()
    {
        await EnqueueAsync();
        await LeaseOneAsync("w1");

        Assert.Empty(await LeaseAsync(5, "w2"));
    }

    [Fact]
    public async Task Concurrent_leasers_never_receive_the_same_job()
    {
        const int JobCount = 500;
        var batch = Enumerable.Range(0, JobCount).Select(i => TestJobs.New(priority: i % 7)).ToArray();
        await Store.EnqueueAsync(batch);

        var random = new Random(1234);
        var maxima = Enumerable.Range(0, 8).Select(_ => random.Next(1, 9)).ToArray();
        var tasks = maxima.Select((max, worker) => Task.Run(async () =>
        {
            var mine = new List<long>();
            while (true)
            {
                var leased = await LeaseAsync(max, $"w{worker}");
                if (leased.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(leased.Select(l => l.Id));
            }
        })).ToArray();
        var all = (await Task.WhenAll(tasks)).SelectMany(x => x).ToList();

        Assert.Equal(JobCount, all.Count);
        Assert.Equal(JobCount, all.Distinct().Count());
        var stats = (await Query.GetQueuesAsync()).Single(q => q.Queue == "default");
        Assert.Equal(JobCount, stats[JobState.Running]);
    }

    [Fact]
    public async Task Every_lease_raises_the_epoch_even_when_the_attempt_is_refunded()
    {
        await EnqueueAsync();
        var first = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Release(first.Token, ErrorOf(first, FailureCategory.Shutdown)));

        var second = await LeaseOneAsync();

        Assert.True(second.Token.Epoch > first.Token.Epoch);
        Assert.Equal(1, second.Attempt);
    }
}
