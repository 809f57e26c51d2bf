using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class WorkerRuntimeTests
{
    [Fact]
    public async Task Retries_follow_the_jobs_backoff_schedule_then_dead_letter()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("flaky", (_, _) => throw new InvalidOperationException("dependency down")));
        var id = await h.EnqueueAsync("flaky", maxAttempts: 4, backoff: BackoffPolicy.Steps(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)));

        foreach (var expected in new[] { 1, 5, 30 })
        {
            Assert.Equal(1, await h.Runtime.RunOnceAsync());
            var job = await h.WaitForStateAsync(id, JobState.Scheduled);
            Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(expected), job.RunAt);
            Assert.Equal(0, await h.Runtime.RunOnceAsync()); // not due yet
            h.Time.Advance(TimeSpan.FromSeconds(expected));
        }

        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        var dead = await h.WaitForStateAsync(id, JobState.DeadLetter);
        Assert.Contains("Attempts exhausted (4 of 4)", dead.Reason);
        Assert.Equal(4, dead.Errors.Count);
        var error = dead.Errors[^1];
        Assert.Equal(FailureCategory.Temporary, error.Category);
        Assert.Equal(h.Runtime.Id, error.WorkerId);
        Assert.Equal("dependency down", error.Message);
        Assert.Equal(typeof(InvalidOperationException).FullName, error.ExceptionType);
        Assert.Contains("WorkerRuntimeTests", error.StackTrace);
        Assert.Equal(3, h.Counter("bulwark.jobs.retried"));
        Assert.Equal(1, h.Counter("bulwark.jobs.dead_lettered"));
    }

    [Fact]
    public async Task A_queue_policy_of_two_attempts_dead_letters_a_failing_job_that_sets_nothing_after_two_attempts()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("flaky", (_, _) => throw new InvalidOperationException("dependency down")), w => w.Queues.Add("email"));
        await h.Store.SetQueuePolicyAsync("email", new QueuePolicy { MaxAttempts = 2, Backoff = BackoffPolicy.Fixed(TimeSpan.FromSeconds(3)) });
        // Through the client, as an application enqueues: no max_attempts, no backoff.
        var client = new Client.JobClient(h.Store, h.Store, time: h.Time);
        var id = (await client.EnqueueJsonAsync("email", "flaky", "{}")).Id;
        var own = (await client.EnqueueJsonAsync("email", "flaky", "{}", o => o.MaxAttempts(3))).Id;

        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(3), (await h.WaitForStateAsync(id, JobState.Scheduled)).RunAt);
        await h.WaitForStateAsync(own, JobState.Scheduled);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(2, await h.Runtime.RunOnceAsync());

        var dead = await h.WaitForStateAsync(id, JobState.DeadLetter);
        Assert.Contains("Attempts exhausted (2 of 2)", dead.Reason);
        Assert.Equal(2, dead.Errors.Count);
        // The job that set its own max_attempts (3) is retried again instead.
        var ownJob = await h.WaitForStateAsync(own, JobState.Scheduled);
        Assert.Equal((2, 3), (ownJob.Attempt, ownJob.MaxAttempts));
    }

    [Fact]
    public async Task A_handler_exceeding_its_timeout_is_cancelled_and_retried_as_Timeout()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("slow", async (_, ctx) => await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken)));
        var id = await h.EnqueueAsync("slow", timeout: TimeSpan.FromSeconds(10));

        await h.Runtime.RunOnceAsync();
        h.Time.Advance(TimeSpan.FromSeconds(9));
        await h.Runtime.RunOnceAsync();
        Assert.Equal(JobState.Running, (await h.GetAsync(id)).State);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.Runtime.RunOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Scheduled);
        Assert.Equal(FailureCategory.Timeout, Assert.Single(job.Errors).Category);
        Assert.Contains("Execution timeout of 10s", job.Errors[0].Message);
    }

    [Fact]
    public async Task A_handler_ignoring_its_token_is_abandoned_as_Timeout_and_its_slot_freed()
    {
        var never = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("hang", async (_, _) => await never.Task).AddHandler<Empty>("noop", (_, _) => Task.CompletedTask),
            o => { o.Concurrency = 1; o.AbandonGracePeriod = TimeSpan.FromSeconds(5); });
        var hung = await h.EnqueueAsync("hang", timeout: TimeSpan.FromSeconds(2));
        var next = await h.EnqueueAsync("noop");

        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        h.Time.Advance(TimeSpan.FromSeconds(2));
        await h.Runtime.RunOnceAsync(); // cancels: the handler ignores it
        h.Time.Advance(TimeSpan.FromSeconds(4));
        await h.Runtime.RunOnceAsync();
        Assert.Equal(1, h.Runtime.ActiveJobs);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await h.Runtime.RunOnceAsync()); // grace over: abandoned, and its freed slot takes the next job
        Assert.Equal(JobState.Completed, (await h.WaitForStateAsync(next, JobState.Completed)).State);
        var job = await h.GetAsync(hung);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(FailureCategory.Timeout, Assert.Single(job.Errors).Category);
        Assert.Equal(1, h.Runtime.AbandonedJobs);
        never.SetResult();
    }

    [Fact]
    public async Task Reaching_the_abandoned_handler_bound_stops_leasing_and_reports_unready()
    {
        var never = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(
            b => b.AddHandler<Empty>("hang", async (_, _) => await never.Task).AddHandler<Empty>("noop", (_, _) => Task.CompletedTask),
            o => { o.MaxAbandonedHandlers = 1; o.AbandonGracePeriod = TimeSpan.Zero; });
        await h.EnqueueAsync("hang", timeout: TimeSpan.FromSeconds(1));
        await h.Runtime.RunOnceAsync();
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.Runtime.RunOnceAsync();
        await h.SettleAsync();
        Assert.Equal(1, h.Runtime.AbandonedJobs);

        await h.EnqueueAsync("noop");
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.False(h.Runtime.IsReady);

        never.SetResult(); // the abandoned handler finally returns: its result is discarded, the bound frees up
        await h.SettleAsync(() => Task.FromResult(h.Runtime.AbandonedJobs == 0));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.True(h.Runtime.IsReady);
    }

    [Fact]
    public async Task A_NullReferenceException_is_a_System_failure_kept_with_its_stack_and_the_worker_keeps_serving()
    {
        await using var h = await WorkerHarness.StartAsync(b => b
            .AddHandler<Empty>("panic", (_, _) => throw new NullReferenceException("bug"))
            .AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        var panic = await h.EnqueueAsync("panic");
        var ok = await h.EnqueueAsync("noop");

        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
        var job = await h.GetAsync(panic);
        Assert.Equal(JobState.Scheduled, job.State);
        var error = Assert.Single(job.Errors);
        Assert.Equal(FailureCategory.System, error.Category);
        Assert.Equal(typeof(NullReferenceException).FullName, error.ExceptionType);
        Assert.False(string.IsNullOrEmpty(error.StackTrace));
        Assert.Equal(JobState.Completed, (await h.GetAsync(ok)).State);

        var later = await h.EnqueueAsync("noop");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await h.WaitForStateAsync(later, JobState.Completed);
    }

    [Fact]
    public async Task System_failures_fail_at_once_when_their_retry_is_turned_off()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("panic", (_, _) => throw new InvalidCastException("bad cast")), o => o.RetrySystemErrors = false);
        var id = await h.EnqueueAsync("panic");
        await h.Runtime.RunOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Failed);
        Assert.Equal(FailureCategory.System, Assert.Single(job.Errors).Category);
    }

    [Fact]
    public async Task A_permanent_failure_fails_without_retry()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("bad", (_, _) => throw new PermanentJobException("customer does not exist")));
        var id = await h.EnqueueAsync("bad", maxAttempts: 5);
        await h.Runtime.RunOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Failed);
        Assert.Equal(1, job.Attempt);
        var error = Assert.Single(job.Errors);
        Assert.Equal(FailureCategory.Permanent, error.Category);
        Assert.Equal("customer does not exist", error.Message);
    }

    [Fact]
    public async Task A_payload_that_cannot_be_read_fails_Permanent_without_running_the_handler()
    {
        var ran = false;
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Sized>("sized", (_, _) =>
        {
            ran = true;
            return Task.CompletedTask;
        }));
        var id = await h.EnqueueAsync("sized", payload: """{"ms":"not a number"}""", maxAttempts: 5);
        await h.Runtime.RunOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Failed);
        var error = Assert.Single(job.Errors);
        Assert.Equal(FailureCategory.Permanent, error.Category);
        Assert.Contains("cannot be read as Sized", error.Message);
        Assert.False(ran);
    }

    [Fact]
    public async Task A_job_of_an_unknown_type_fails_Permanent_with_a_message_naming_the_type()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        var id = await h.EnqueueAsync("nobody.handles.this");
        await h.Runtime.RunOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Failed);
        Assert.Contains("No handler is registered for job type 'nobody.handles.this'", job.Errors[0].Message);
    }

    [Fact]
    public async Task A_result_is_stored_as_json_and_progress_with_checkpoint_is_saved()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("report", async (_, ctx) =>
        {
            Assert.True(await ctx.ReportProgressAsync(50, new { step = 1 }));
            return new { answer = 42 };
        }));
        var id = await h.EnqueueAsync("report");
        await h.Runtime.RunOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Completed);
        Assert.Equal("""{"answer":42}""", job.Result);
        Assert.Equal(50, job.Progress);
        Assert.Equal("""{"step":1}""", job.Checkpoint);
        Assert.Equal(1, h.Counter("bulwark.jobs.completed"));
    }

    [Fact]
    public async Task A_running_job_whose_cancellation_is_requested_ends_Cancelled()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("long", async (_, ctx) => await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken)));
        var id = await h.EnqueueAsync("long");
        await h.Runtime.RunOnceAsync();
        Assert.Equal(Bulwark.Storage.CancelResult.CancellationRequested, await h.Store.CancelAsync(id));

        await h.Runtime.HeartbeatOnceAsync();
        var job = await h.WaitForStateAsync(id, JobState.Cancelled);
        Assert.Equal(FailureCategory.Cancelled, Assert.Single(job.Errors).Category);
    }

    [Fact]
    public async Task Above_the_memory_limit_the_worker_stops_leasing_until_back_under()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask), o => o.MemoryLimitBytes = 100L * 1024 * 1024);
        var id = await h.EnqueueAsync("noop");
        h.WorkingSet = 150L * 1024 * 1024;
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.True(h.Runtime.IsOverMemoryLimit);
        Assert.Equal(JobState.Ready, (await h.GetAsync(id)).State);

        h.WorkingSet = 80L * 1024 * 1024;
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.False(h.Runtime.IsOverMemoryLimit);
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task Over_the_memory_limit_a_full_collection_runs_first_and_leasing_continues_when_it_freed_enough()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask), o => o.MemoryLimitBytes = 100L * 1024 * 1024);
        var id = await h.EnqueueAsync("noop");
        h.WorkingSet = 150L * 1024 * 1024;
        h.WorkingSetAfterCollection = 60L * 1024 * 1024;

        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(1, h.Collections);
        Assert.False(h.Runtime.IsOverMemoryLimit);
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task A_worker_paused_for_memory_collects_at_most_once_per_interval_and_resumes_once_a_collection_frees_enough()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask), o => o.MemoryLimitBytes = 100L * 1024 * 1024);
        var id = await h.EnqueueAsync("noop");
        h.WorkingSet = 150L * 1024 * 1024;

        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        h.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        Assert.Equal(1, h.Collections);
        Assert.True(h.Runtime.IsOverMemoryLimit);

        // The large job's memory is garbage now, but only a collection gives it back: the next one resumes leasing.
        h.WorkingSetAfterCollection = 70L * 1024 * 1024;
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(2, h.Collections);
        Assert.False(h.Runtime.IsOverMemoryLimit);
        await h.WaitForStateAsync(id, JobState.Completed);
    }

    [Fact]
    public async Task A_heartbeat_racing_a_finished_handlers_outcome_does_not_count_a_lost_lease()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask));
        var id = await h.EnqueueAsync("noop");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        await Poll.UntilAsync(() => Task.FromResult(h.Runtime.Completer.PendingCount > 0), TimeSpan.FromSeconds(15), () => "the outcome was never queued");

        // The handler has ended and its outcome is queued; the store closes the lease before the beat reaches it.
        var job = await h.GetAsync(id);
        await h.Store.FinishAsync([Bulwark.Storage.JobOutcome.Complete(new Bulwark.Storage.LeaseToken(id, job.LeaseEpoch))]);
        var beat = await h.Runtime.HeartbeatOnceAsync();

        Assert.Contains(new Bulwark.Storage.LeaseToken(id, job.LeaseEpoch), beat!.Lost);
        Assert.Equal(0, h.Counter("bulwark.lease.lost"));
        await h.SettleAsync();
    }

    [Fact]
    public async Task Leasing_takes_no_more_than_the_free_slots()
    {
        var gate = new TaskCompletionSource();
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("wait", async (_, _) => await gate.Task), o => o.Concurrency = 3);
        for (var i = 0; i < 5; i++)
        {
            await h.EnqueueAsync("wait");
        }

        Assert.Equal(3, await h.Runtime.RunOnceAsync());
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        gate.SetResult();
        await h.SettleAsync();
        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
    }

    [Fact]
    public async Task A_slot_frees_when_its_handler_returns_and_unwritten_outcomes_hold_back_leasing_past_one_slots_worth_each()
    {
        // No lease-ahead buffer: the counts below are of slots alone (LeaseAheadTests covers the buffer).
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask), o => { o.Concurrency = 2; o.LeaseAhead = 0; });
        for (var i = 0; i < 6; i++)
        {
            await h.EnqueueAsync("noop");
        }

        // The harness runs no completer loop: outcomes wait until SettleAsync writes them.
        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        await Poll.UntilAsync(() => Task.FromResult(h.Runtime.FinishingJobs == 2), TimeSpan.FromSeconds(10), () => $"{h.Runtime.FinishingJobs} finishing");
        Assert.Equal(0, h.Runtime.ActiveJobs);
        Assert.Equal(2, await h.Runtime.RunOnceAsync()); // the slots are free although no outcome is written yet

        await Poll.UntilAsync(() => Task.FromResult(h.Runtime.FinishingJobs == 4), TimeSpan.FromSeconds(10), () => $"{h.Runtime.FinishingJobs} finishing");
        Assert.Equal(0, await h.Runtime.RunOnceAsync()); // two slots' worth of unwritten outcomes: no more leasing
        Assert.Equal(4, (await h.Store.ListJobsAsync(new JobListQuery(State: JobState.Running))).Items.Count);

        await h.SettleAsync();
        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
        Assert.Equal(6, (await h.Store.ListJobsAsync(new JobListQuery(State: JobState.Completed))).Items.Count);
    }

    [Fact]
    public async Task Queues_are_served_in_list_order_unless_weighted()
    {
        await using var ordered = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask), o => { o.Concurrency = 1; o.Queues.Add("a"); o.Queues.Add("b"); });
        var inB = await ordered.EnqueueAsync("noop", queue: "b");
        var inA = await ordered.EnqueueAsync("noop", queue: "a");
        await ordered.Runtime.RunOnceAsync();
        await ordered.WaitForStateAsync(inA, JobState.Completed);
        Assert.Equal(JobState.Ready, (await ordered.GetAsync(inB)).State);

        // The harness's random source is a constant 0.5: the heavier queue always draws the higher key.
        await using var weighted = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("noop", (_, _) => Task.CompletedTask), o => { o.Concurrency = 1; o.Queues.Add("a"); o.Queues.Add("b"); o.QueueWeights["b"] = 5; });
        inB = await weighted.EnqueueAsync("noop", queue: "b");
        inA = await weighted.EnqueueAsync("noop", queue: "a");
        await weighted.Runtime.RunOnceAsync();
        await weighted.WaitForStateAsync(inB, JobState.Completed);
        Assert.Equal(JobState.Ready, (await weighted.GetAsync(inA)).State);
    }

    [Fact]
    public void Unusable_options_are_refused_at_start_up_with_what_to_change()
    {
        var options = new WorkerOptions { Concurrency = 0, LeaseDuration = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromSeconds(2) };
        options.Queues.Add("Bad Queue");
        options.QueueWeights["elsewhere"] = 0;
        var problems = options.Validate();
        Assert.Contains(problems, p => p.Contains("Concurrency must be between 1 and 10000 (got 0)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("must be positive and shorter than the lease", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Queue 'Bad Queue'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("queue 'elsewhere', which the worker does not serve", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("weight of queue 'elsewhere' must be at least 1 (got 0)", StringComparison.Ordinal));
    }
}
