using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task Complete_moves_a_running_job_to_completed_with_its_result()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        Time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Complete(leased.Token, """{"sent":true}""")));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal("""{"sent":true}""", job.Result);
        Assert.Equal(Now, job.FinishedAt);
        Assert.Null(job.LeaseOwner);
        Assert.Equal(1, job.Attempt);
    }

    [Fact]
    public async Task Retry_schedules_the_job_after_the_delay_by_the_store_clock()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        var error = ErrorOf(leased, message: "smtp down");

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Retry(leased.Token, error, TimeSpan.FromSeconds(30))));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(Now.AddSeconds(30), job.RunAt);
        Assert.Equal(1, job.Attempt);
        var recorded = Assert.Single(job.Errors);
        Assert.Equal("smtp down", recorded.Message);
        Assert.Equal(FailureCategory.Temporary, recorded.Category);
        Assert.Equal(1, recorded.Attempt);

        Assert.Empty(await LeaseAsync());
        Time.Advance(TimeSpan.FromSeconds(30));
        var again = await LeaseOneAsync();
        Assert.Equal(id, again.Id);
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task A_retried_job_is_promoted_once_due()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Retry(leased.Token, ErrorOf(leased), TimeSpan.FromSeconds(5)));

        Assert.Equal(0, await Store.PromoteDueAsync());
        Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(1, await Store.PromoteDueAsync());

        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task Fail_moves_the_job_to_failed_with_its_error_and_reason()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Fail(leased.Token, ErrorOf(leased, FailureCategory.Permanent, "bad address"))));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("bad address", job.Reason);
        Assert.Equal(FailureCategory.Permanent, Assert.Single(job.Errors).Category);
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public async Task DeadLetter_outcome_moves_the_job_to_dead_letter_with_its_reason()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.DeadLetter(leased.Token, ErrorOf(leased), "attempts exhausted")));

        var job = await GetAsync(id);
        Assert.Equal(JobState.DeadLetter, job.State);
        Assert.Equal("attempts exhausted", job.Reason);
        Assert.Single(job.Errors);
    }

    [Fact]
    public async Task Release_gives_the_job_back_ready_and_refunds_the_attempt()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Release(leased.Token, ErrorOf(leased, FailureCategory.Shutdown))));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Null(job.LeaseOwner);
    }

    [Fact]
    public async Task Cancelled_outcome_moves_the_job_to_cancelled()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Cancelled(leased.Token, ErrorOf(leased, FailureCategory.Cancelled, "stopped"))));

        Assert.Equal(JobState.Cancelled, (await GetAsync(id)).State);
    }

    // The batch shapes matter: stores write a lone outcome, a batch of distinct jobs and a job named twice by different statements.
    [Theory]
    [InlineData(OutcomeKind.Retry, "alone")]
    [InlineData(OutcomeKind.Fail, "alone")]
    [InlineData(OutcomeKind.DeadLetter, "alone")]
    [InlineData(OutcomeKind.Release, "alone")]
    [InlineData(OutcomeKind.Retry, "beside another")]
    [InlineData(OutcomeKind.Fail, "beside another")]
    [InlineData(OutcomeKind.DeadLetter, "beside another")]
    [InlineData(OutcomeKind.Release, "beside another")]
    [InlineData(OutcomeKind.Retry, "twice")]
    [InlineData(OutcomeKind.Fail, "twice")]
    [InlineData(OutcomeKind.DeadLetter, "twice")]
    [InlineData(OutcomeKind.Release, "twice")]
    public async Task A_job_whose_cancel_was_requested_ends_cancelled_whatever_unsuccessful_outcome_arrives(OutcomeKind kind, string batch)
    {
        var id = await EnqueueAsync();
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [id]));
        var other = await EnqueueAsync();
        var leased = await Store.LeaseAsync(new LeaseRequest("w1", ["default"], 2, LeaseLength));
        var token = leased.Single(l => l.Id == id).Token;
        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));
        Time.Advance(TimeSpan.FromSeconds(2));
        var outcome = OutcomeOf(kind, token);

        IReadOnlyList<JobOutcome> outcomes = batch switch
        {
            "alone" => [outcome],
            "beside another" => [outcome, JobOutcome.Retry(leased.Single(l => l.Id == other).Token, TestJobs.Error(1, Now), TimeSpan.FromSeconds(5))],
            _ => [outcome, JobOutcome.Complete(token)],
        };
        var results = await Store.FinishAsync(outcomes);

        Assert.Equal(FenceResult.Ok, results[0]);
        var job = await GetAsync(id);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal(Now, job.FinishedAt);
        Assert.Null(job.LeaseOwner);
        Assert.Equal(1, job.Attempt);
        Assert.Contains("cancel", job.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(outcome.Error!.Message, Assert.Single(job.Errors).Message);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(child)).State);
        if (batch == "beside another")
        {
            // The job beside it was not cancelled: its retry stands.
            Assert.Equal(FenceResult.Ok, results[1]);
            Assert.Equal(JobState.Scheduled, (await GetAsync(other)).State);
        }
        else if (batch == "twice")
        {
            Assert.Equal(FenceResult.NotRunning, results[1]);
        }

        Time.Advance(TimeSpan.FromMinutes(1));
        await Store.PromoteDueAsync();
        Assert.DoesNotContain(await LeaseAsync(max: 10), l => l.Id == id);
    }

    [Fact]
    public async Task A_completion_that_arrives_after_the_cancel_request_still_completes_the_job()
    {
        var id = await EnqueueAsync();
        var child = await EnqueueAsync(TestJobs.New(dependsOn: [id]));
        var leased = await LeaseOneAsync();
        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));

        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Complete(leased.Token, """{"sent":true}""")));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal("""{"sent":true}""", job.Result);
        Assert.Equal(JobState.Ready, (await GetAsync(child)).State);
    }

    [Theory]
    [InlineData(OutcomeKind.Complete)]
    [InlineData(OutcomeKind.Retry)]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Release)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task An_outcome_for_an_unknown_job_is_refused_as_not_found(OutcomeKind kind)
    {
        Assert.Equal(FenceResult.NotFound, await FinishAsync(OutcomeOf(kind, new LeaseToken(424242, 1))));
    }

    [Theory]
    [InlineData(OutcomeKind.Complete)]
    [InlineData(OutcomeKind.Retry)]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Release)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task Completing_a_job_that_was_never_leased_is_refused_as_not_running(OutcomeKind kind)
    {
        var id = await EnqueueAsync();

        Assert.Equal(FenceResult.NotRunning, await FinishAsync(OutcomeOf(kind, new LeaseToken(id, 0))));
        Assert.Equal(FenceResult.NotRunning, await FinishAsync(OutcomeOf(kind, new LeaseToken(id, 1))));
        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
    }

    [Theory]
    [InlineData(OutcomeKind.Complete)]
    [InlineData(OutcomeKind.Retry)]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Release)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task A_second_outcome_for_a_finished_job_is_refused_as_not_running(OutcomeKind kind)
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();
        await FinishAsync(JobOutcome.Complete(leased.Token, "1"));

        Assert.Equal(FenceResult.NotRunning, await FinishAsync(OutcomeOf(kind, leased.Token)));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal("1", job.Result);
    }

    [Theory]
    [InlineData(OutcomeKind.Complete)]
    [InlineData(OutcomeKind.Retry)]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Release)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task Completion_with_a_stale_lease_is_refused(OutcomeKind kind)
    {
        var id = await EnqueueAsync();
        var stale = await LeaseOneAsync("zombie");
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        await Store.ReclaimAsync(TimeSpan.FromMinutes(10));
        var current = await LeaseOneAsync("w2");

        Assert.Equal(FenceResult.LeaseLost, await FinishAsync(OutcomeOf(kind, stale.Token)));

        var job = await GetAsync(id);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal("w2", job.LeaseOwner);
        Assert.Equal(current.Token.Epoch, job.LeaseEpoch);
        Assert.Equal(FenceResult.Ok, await FinishAsync(JobOutcome.Complete(current.Token)));
    }

    [Fact]
    public async Task A_reclaimed_job_refuses_its_old_token_while_it_waits()
    {
        var id = await EnqueueAsync();
        var stale = await LeaseOneAsync();
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        await Store.ReclaimAsync(TimeSpan.FromMinutes(10));

        Assert.Equal(FenceResult.NotRunning, await FinishAsync(JobOutcome.Complete(stale.Token)));
        Assert.Equal(FenceResult.NotRunning, await Store.SaveProgressAsync(stale.Token, 50, null));
        Assert.Equal(JobState.Ready, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task A_batch_of_outcomes_gets_one_result_per_outcome_in_order()
    {
        await EnqueueAsync();
        await EnqueueAsync();
        var leased = await LeaseAsync(2);

        var results = await Store.FinishAsync(
        [
            JobOutcome.Complete(leased[0].Token),
            JobOutcome.Complete(new LeaseToken(leased[1].Id, leased[1].Token.Epoch + 5)),
            JobOutcome.Complete(new LeaseToken(999_999, 1)),
            JobOutcome.Complete(leased[0].Token),
        ]);

        Assert.Equal([FenceResult.Ok, FenceResult.LeaseLost, FenceResult.NotFound, FenceResult.NotRunning], results);
        Assert.Equal(JobState.Running, (await GetAsync(leased[1].Id)).State);
    }

    [Fact]
    public async Task SaveProgress_stores_progress_and_checkpoint_and_keeps_them_when_null()
    {
        var id = await EnqueueAsync();
        var leased = await LeaseOneAsync();

        Assert.Equal(FenceResult.Ok, await Store.SaveProgressAsync(leased.Token, 40, """{"step":2}"""));
        Assert.Equal(FenceResult.Ok, await Store.SaveProgressAsync(leased.Token, null, null));
        var job = await GetAsync(id);
        Assert.Equal(40, job.Progress);
        Assert.Equal("""{"step":2}""", job.Checkpoint);

        Assert.Equal(FenceResult.Ok, await Store.SaveProgressAsync(leased.Token, 80, null));
        job = await GetAsync(id);
        Assert.Equal(80, job.Progress);
        Assert.Equal("""{"step":2}""", job.Checkpoint);
    }

    [Fact]
    public async Task SaveProgress_is_fenced_like_completion()
    {
        var id = await EnqueueAsync();
        Assert.Equal(FenceResult.NotFound, await Store.SaveProgressAsync(new LeaseToken(999_999, 1), 10, null));
        Assert.Equal(FenceResult.NotRunning, await Store.SaveProgressAsync(new LeaseToken(id, 1), 10, null));

        var leased = await LeaseOneAsync();
        Assert.Equal(FenceResult.LeaseLost, await Store.SaveProgressAsync(new LeaseToken(id, leased.Token.Epoch + 1), 10, "\"zombie\""));
        Assert.Equal(FenceResult.LeaseLost, await Store.SaveProgressAsync(new LeaseToken(id, leased.Token.Epoch - 1), 10, "\"zombie\""));
        Assert.Null((await GetAsync(id)).Checkpoint);

        await FinishAsync(JobOutcome.Complete(leased.Token));
        Assert.Equal(FenceResult.NotRunning, await Store.SaveProgressAsync(leased.Token, 10, null));
    }

    [Fact]
    public async Task The_checkpoint_is_given_back_on_the_next_attempt()
    {
        await EnqueueAsync();
        var first = await LeaseOneAsync();
        await Store.SaveProgressAsync(first.Token, 50, """{"done":5}""");
        await FinishAsync(JobOutcome.Retry(first.Token, ErrorOf(first), TimeSpan.Zero));

        var second = await LeaseOneAsync();

        Assert.Equal("""{"done":5}""", second.Checkpoint);
        Assert.Equal(50, second.Progress);
        Assert.Equal(2, second.Attempt);
    }
}
