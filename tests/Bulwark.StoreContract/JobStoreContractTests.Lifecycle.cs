using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task A_child_waits_pending_until_every_parent_completes()
    {
        var p1 = await EnqueueAsync(priority: 2);
        var p2 = await EnqueueAsync(priority: 1);
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [p1, p2]));
        Assert.Equal(JobState.Pending, (await GetAsync(child)).State);

        var first = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Complete(first.Token));
        Assert.Equal(JobState.Pending, (await GetAsync(child)).State);

        var second = await LeaseOneAsync();
        Assert.Equal(p2, second.Id);
        await FinishAsync(JobOutcome.Complete(second.Token));

        Assert.Equal(JobState.Ready, (await GetAsync(child)).State);
        Assert.Equal(child, (await LeaseOneAsync()).Id);
    }

    [Fact]
    public async Task A_pending_job_is_not_leased()
    {
        var parent = await EnqueueAsync("parents");
        await EnqueueAsync(TestJobs.New(dependsOn: [parent]));

        Assert.Empty(await LeaseAsync(5));
    }

    [Fact]
    public async Task A_child_with_a_future_run_at_becomes_scheduled_when_its_parent_completes()
    {
        var parent = await EnqueueAsync();
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent], runAt: Now.AddHours(1)));
        var leased = await LeaseOneAsync();

        await FinishAsync(JobOutcome.Complete(leased.Token));

        Assert.Equal(JobState.Scheduled, (await GetAsync(child)).State);
    }

    [Theory]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task A_parent_that_ends_otherwise_dead_letters_its_descendants_naming_the_parent(OutcomeKind kind)
    {
        var parent = await EnqueueAsync("parents");
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent]));
        var grandchild = await EnqueueAsync(TestJobs.New(dependsOn: [child]));
        var leased = await LeaseOneAsync(queue: "parents");

        await FinishAsync(OutcomeOf(kind, leased.Token));

        var c = await GetAsync(child);
        var g = await GetAsync(grandchild);
        Assert.Equal(JobState.DeadLetter, c.State);
        Assert.Contains(parent.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Reason, StringComparison.Ordinal);
        Assert.Equal(JobState.DeadLetter, g.State);
        Assert.Contains(child.ToString(System.Globalization.CultureInfo.InvariantCulture), g.Reason, StringComparison.Ordinal);
        Assert.NotNull(g.FinishedAt);
    }

    [Fact]
    public async Task Cancelling_a_waiting_parent_dead_letters_its_children()
    {
        var parent = await EnqueueAsync(TestJobs.New(runAt: Now.AddHours(1)));
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent]));

        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(parent));

        Assert.Equal(JobState.Cancelled, (await GetAsync(parent)).State);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(child)).State);
    }

    [Fact]
    public async Task A_pending_child_can_be_cancelled()
    {
        var parent = await EnqueueAsync();
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent]));

        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(child));
        Assert.Equal(JobState.Cancelled, (await GetAsync(child)).State);
    }

    [Fact]
    public async Task Expire_dead_letters_every_waiting_or_running_job_past_its_lifetime()
    {
        var ready = await EnqueueAsync(TestJobs.New(expiresAt: Now.AddMinutes(1)));
        var scheduled = await EnqueueAsync(TestJobs.New(runAt: Now.AddSeconds(30), expiresAt: Now.AddMinutes(1)));
        var running = await EnqueueAsync(TestJobs.New("run", expiresAt: Now.AddMinutes(1)));
        await LeaseOneAsync(queue: "run");
        var parent = await EnqueueAsync("parents");
        var pending = await EnqueueAsync(TestJobs.New(dependsOn: [parent], expiresAt: Now.AddMinutes(1)));
        var lasting = await EnqueueAsync(TestJobs.New(expiresAt: Now.AddHours(1)));
        var forever = await EnqueueAsync();

        Assert.Equal(0, await Store.ExpireAsync());
        Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(4, await Store.ExpireAsync());

        foreach (var id in new[] { ready, scheduled, running, pending })
        {
            var job = await GetAsync(id);
            Assert.Equal(JobState.DeadLetter, job.State);
            Assert.False(string.IsNullOrEmpty(job.Reason));
        }

        Assert.Equal(JobState.Ready, (await GetAsync(lasting)).State);
        Assert.Equal(JobState.Ready, (await GetAsync(forever)).State);
        Assert.Equal(0, await Store.ExpireAsync());
    }

    [Fact]
    public async Task An_expired_parent_dead_letters_its_children()
    {
        var parent = await EnqueueAsync(TestJobs.New(expiresAt: Now.AddMinutes(1)));
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent]));
        Time.Advance(TimeSpan.FromMinutes(2));

        await Store.ExpireAsync();

        Assert.Equal(JobState.DeadLetter, (await GetAsync(child)).State);
    }

    [Fact]
    public async Task A_completed_job_does_not_expire()
    {
        var id = await EnqueueAsync(TestJobs.New(expiresAt: Now.AddMinutes(1)));
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync()).Token));
        Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(0, await Store.ExpireAsync());
        Assert.Equal(JobState.Completed, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task Purge_deletes_finished_jobs_older_than_their_retention()
    {
        var completed = await EnqueueAsync();
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync()).Token));
        var failed = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Fail(leased.Token, ErrorOf(leased, FailureCategory.Permanent)));
        var waiting = await EnqueueAsync(TestJobs.New(runAt: Now.AddDays(30)));
        var policy = new RetentionPolicy { Completed = TimeSpan.FromHours(1), Failed = TimeSpan.FromDays(1) };

        Time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(0, await Store.PurgeAsync(policy));

        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await Store.PurgeAsync(policy));
        Assert.Null(await Query.GetJobAsync(completed));
        Assert.NotNull(await Query.GetJobAsync(failed));

        Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await Store.PurgeAsync(policy));
        Assert.Null(await Query.GetJobAsync(failed));
        Assert.Equal(JobState.Scheduled, (await GetAsync(waiting)).State);
    }

    [Fact]
    public async Task Purge_deletes_at_most_its_batch_size()
    {
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync();
        }

        foreach (var leased in await LeaseAsync(5))
        {
            await FinishAsync(JobOutcome.Complete(leased.Token));
        }

        Time.Advance(TimeSpan.FromDays(2));
        var policy = RetentionPolicy.Default with { BatchSize = 2 };

        Assert.Equal(2, await Store.PurgeAsync(policy));
        Assert.Equal(2, await Store.PurgeAsync(policy));
        Assert.Equal(1, await Store.PurgeAsync(policy));
        Assert.Equal(0, await Store.PurgeAsync(policy));
    }

    [Theory]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task Retry_moves_a_finished_job_back_to_ready_with_attempts_reset(OutcomeKind kind)
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        await FinishAsync(OutcomeOf(kind, leased.Token));

        Assert.Equal(AdminResult.Ok, await Store.RetryAsync(id));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.FinishedAt);
        var again = await LeaseOneAsync();
        Assert.Equal(1, again.Attempt);
        Assert.True(again.Token.Epoch > leased.Token.Epoch);
    }

    [Fact]
    public async Task Retry_refuses_jobs_that_are_not_failed_dead_or_cancelled()
    {
        var ready = await EnqueueAsync();
        var scheduled = await EnqueueAsync(TestJobs.New(runAt: Now.AddHours(1)));
        var pending = await EnqueueAsync(TestJobs.New(dependsOn: [scheduled]));
        var running = await EnqueueAsync("run");
        await LeaseOneAsync(queue: "run");
        var completed = await EnqueueAsync("done");
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync(queue: "done")).Token));

        foreach (var id in new[] { ready, scheduled, pending, running, completed })
        {
            var before = await GetAsync(id);
            Assert.Equal(AdminResult.InvalidState, await Store.RetryAsync(id));
            Assert.Equal(before.State, (await GetAsync(id)).State);
        }

        Assert.Equal(AdminResult.NotFound, await Store.RetryAsync(999_999));
    }

    [Fact]
    public async Task RetryDeadLetters_retries_only_the_dead_letters_of_that_queue()
    {
        async Task<long> DeadLetterAsync(string queue)
        {
            var id = await EnqueueAsync(queue);
            var leased = await LeaseOneAsync(queue: queue);
            await FinishAsync(JobOutcome.DeadLetter(leased.Token, ErrorOf(leased), "attempts exhausted"));
            return id;
        }

        var a1 = await DeadLetterAsync("a");
        var a2 = await DeadLetterAsync("a");
        var b1 = await DeadLetterAsync("b");
        var failed = await EnqueueAsync("a");
        var leasedFailed = await LeaseOneAsync(queue: "a");
        await FinishAsync(JobOutcome.Fail(leasedFailed.Token, ErrorOf(leasedFailed, FailureCategory.Permanent)));

        Assert.Equal(2, await Store.RetryDeadLettersAsync("a"));

        Assert.Equal(JobState.Ready, (await GetAsync(a1)).State);
        Assert.Equal(0, (await GetAsync(a2)).Attempt);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(b1)).State);
        Assert.Equal(JobState.Failed, (await GetAsync(failed)).State);
        Assert.Equal(0, await Store.RetryDeadLettersAsync("a"));
    }

    [Fact]
    public async Task Cancel_cancels_waiting_jobs_at_once()
    {
        var ready = await EnqueueAsync();
        var scheduled = await EnqueueAsync(TestJobs.New(runAt: Now.AddHours(1)));

        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(ready));
        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(scheduled));

        var job = await GetAsync(ready);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.NotNull(job.FinishedAt);
        Assert.Equal(JobState.Cancelled, (await GetAsync(scheduled)).State);
        Assert.Empty(await LeaseAsync(5));
    }

    [Fact]
    public async Task Cancel_of_a_running_job_only_requests_it()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();

        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));
        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Running, job.State);
        Assert.True(job.CancelRequested);
        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Complete(leased.Token)));
    }

    [Fact]
    public async Task Cancel_of_a_finished_or_unknown_job_says_so()
    {
        var id = await EnqueueAsync();
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync()).Token));
        var cancelled = await EnqueueAsync();
        await Store.CancelAsync(cancelled);

        Assert.Equal(CancelResult.AlreadyFinished, await Store.CancelAsync(id));
        Assert.Equal(CancelResult.AlreadyFinished, await Store.CancelAsync(cancelled));
        Assert.Equal(CancelResult.NotFound, await Store.CancelAsync(999_999));
        Assert.Equal(JobState.Completed, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task DeleteJobs_deletes_only_that_queue_and_state_before_the_cutoff()
    {
        var old = await EnqueueAsync(TestJobs.New(runAt: Now.AddDays(1)));
        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Now;
        Time.Advance(TimeSpan.FromHours(1));
        var fresh = await EnqueueAsync(TestJobs.New(runAt: Now.AddDays(1)));
        var otherQueue = await EnqueueAsync(TestJobs.New("other", runAt: Now.AddDays(1)));
        var otherState = await EnqueueAsync();

        Assert.Equal(1, await Store.DeleteJobsAsync("default", JobState.Scheduled, cutoff));

        Assert.Null(await Query.GetJobAsync(old));
        Assert.NotNull(await Query.GetJobAsync(fresh));
        Assert.NotNull(await Query.GetJobAsync(otherQueue));
        Assert.NotNull(await Query.GetJobAsync(otherState));
    }

    [Fact]
    public async Task DeleteJobs_judges_finished_jobs_by_when_they_finished()
    {
        var id = await EnqueueAsync();
        Time.Advance(TimeSpan.FromHours(2));
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync()).Token));

        Assert.Equal(0, await Store.DeleteJobsAsync("default", JobState.Completed, Now.AddHours(-1)));
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await Store.DeleteJobsAsync("default", JobState.Completed, Now));
        Assert.Null(await Query.GetJobAsync(id));
    }

    [Fact]
    public async Task DeleteJobs_refuses_running_jobs()
    {
        var id = await EnqueueAsync();
        await LeaseOneAsync();
        Time.Advance(TimeSpan.FromHours(1));

        await Assert.ThrowsAsync<JobValidationException>(() => Store.DeleteJobsAsync("default", JobState.Running, Now));

        Assert.Equal(JobState.Running, (await GetAsync(id)).State);
    }
}
