using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    private static readonly QueuePolicy EmailPolicy = new()
    {
        MaxAttempts = 2,
        Backoff = BackoffPolicy.Fixed(TimeSpan.FromSeconds(5)),
        Timeout = TimeSpan.FromSeconds(30),
        Retention = TimeSpan.FromDays(3),
    };

    private static NewJob Bare(string queue, string? key = null) =>
        JobValidator.Validate(new NewJob { Queue = queue, Type = "test.job", Payload = "{}", Key = key });

    [Fact]
    public async Task A_queue_policy_is_kept_fleet_wide_replaced_whole_and_cleared_by_none()
    {
        await Store.SetQueuePolicyAsync("email", EmailPolicy);
        var (peer, _) = await OpenPeerAsync();
        Assert.Equal(EmailPolicy, (await peer.GetQueuePoliciesAsync())["email"]);

        await Store.SetQueuePolicyAsync("email", new QueuePolicy { Timeout = TimeSpan.FromMinutes(2) });
        Assert.Equal(new QueuePolicy { Timeout = TimeSpan.FromMinutes(2) }, (await Store.GetQueuePoliciesAsync())["email"]);
        Assert.Contains(await Query.GetQueuesAsync(), q => q.Queue == "email");

        await Store.SetQueuePolicyAsync("email", QueuePolicy.None);
        Assert.Empty(await Store.GetQueuePoliciesAsync());
    }

    [Fact]
    public async Task Enqueue_gives_a_job_its_queues_policy_where_it_sets_nothing_itself()
    {
        await Store.SetQueuePolicyAsync("email", EmailPolicy);

        // One plain job, a batch of plain ones, a keyed one and one in another queue: every insert path of a store.
        var results = await Store.EnqueueAsync([Bare("email"), Bare("email"), Bare("email", key: "k1"), Bare("sms")]);
        var single = await Store.EnqueueAsync([Bare("email")]);

        foreach (var id in results.Take(3).Append(single[0]).Select(r => r.Id))
        {
            var job = (await Query.GetJobAsync(id))!;
            Assert.Equal((2, TimeSpan.FromSeconds(30), "fixed(5s)"), (job.MaxAttempts, job.Timeout, job.Backoff.ToString()));
        }

        var other = (await Query.GetJobAsync(results[3].Id))!;
        Assert.Equal((JobDefaults.MaxAttempts, JobDefaults.Timeout, BackoffPolicy.Default.ToString()), (other.MaxAttempts, other.Timeout, other.Backoff.ToString()));
    }

    [Fact]
    public async Task A_jobs_own_setting_wins_over_its_queues_policy_field_by_field()
    {
        await Store.SetQueuePolicyAsync("email", EmailPolicy);
        var own = JobValidator.Validate(Bare("email") with { MaxAttempts = 7 });
        var keyed = JobValidator.Validate(Bare("email", key: "k2") with { Timeout = TimeSpan.FromMinutes(9), Backoff = BackoffPolicy.Fixed(TimeSpan.FromSeconds(1)) });
        Assert.Equal(JobSettings.MaxAttempts, own.OwnSettings);

        var results = await Store.EnqueueAsync([own, keyed]);

        var a = (await Query.GetJobAsync(results[0].Id))!;
        Assert.Equal((7, TimeSpan.FromSeconds(30), "fixed(5s)"), (a.MaxAttempts, a.Timeout, a.Backoff.ToString()));
        var b = (await Query.GetJobAsync(results[1].Id))!;
        Assert.Equal((2, TimeSpan.FromMinutes(9), "fixed(1s)"), (b.MaxAttempts, b.Timeout, b.Backoff.ToString()));
    }

    [Fact]
    public async Task A_policy_set_on_one_store_instance_applies_to_jobs_enqueued_on_another()
    {
        var (peer, peerQuery) = await OpenPeerAsync();
        await Store.SetQueuePolicyAsync("email", new QueuePolicy { MaxAttempts = 2 });

        var id = (await peer.EnqueueAsync([Bare("email")]))[0].Id;

        Assert.Equal(2, (await peerQuery.GetJobAsync(id))!.MaxAttempts);
    }

    [Theory]
    [InlineData("max_attempts")]
    [InlineData("timeout")]
    [InlineData("retention")]
    public async Task An_invalid_policy_is_refused_naming_the_field_and_nothing_changes(string field)
    {
        await Store.SetQueuePolicyAsync("email", EmailPolicy);
        var bad = field switch
        {
            "max_attempts" => new QueuePolicy { MaxAttempts = 0 },
            "timeout" => new QueuePolicy { Timeout = TimeSpan.Zero },
            _ => new QueuePolicy { Retention = TimeSpan.FromSeconds(-1) },
        };

        var refused = await Assert.ThrowsAsync<JobValidationException>(() => Store.SetQueuePolicyAsync("email", bad));

        Assert.Equal(field, refused.Field);
        Assert.Equal(EmailPolicy, (await Store.GetQueuePoliciesAsync())["email"]);
        await Assert.ThrowsAsync<JobValidationException>(() => Store.SetQueuePolicyAsync("Bad Queue", EmailPolicy));
    }
}
