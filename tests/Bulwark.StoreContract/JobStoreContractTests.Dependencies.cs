using System.Globalization;
using Bulwark.Flows;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>
/// Dependencies stay consistent when jobs are retried or deleted: a retried job never runs without its inputs, a deleted
/// parent releases no one, and a dependent that becomes ready obeys its priority and its queue's pause.
/// </summary>
public abstract partial class JobStoreContractTests
{
    public static TheoryData<OutcomeKind> UnsuccessfulEnds() => [OutcomeKind.Fail, OutcomeKind.DeadLetter, OutcomeKind.Cancelled];

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>A parent (queue "parents", leased) and its dead-lettered dependent in "docs", after the parent ended with <paramref name="end"/>.</summary>
    private async Task<(long Parent, long Child)> DeadDependentAsync(OutcomeKind end)
    {
        await EnqueueAsync("parents");
        var parent = await LeaseOneAsync(queue: "parents");
        var child = await EnqueueAsync(TestJobs.New("docs", dependsOn: [parent.Id]));
        await FinishAsync(OutcomeOf(end, parent.Token));
        Assert.Equal(JobState.DeadLetter, (await GetAsync(child)).State);
        return (parent.Id, child);
    }

    [Theory]
    [MemberData(nameof(UnsuccessfulEnds), MemberType = typeof(JobStoreContractTests))]
    public async Task Retrying_a_job_whose_dependency_did_not_complete_is_refused_naming_it_and_changes_nothing(OutcomeKind end)
    {
        var (parent, child) = await DeadDependentAsync(end);
        var before = await GetAsync(child);

        var conflict = await Assert.ThrowsAsync<JobConflictException>(() => Store.RetryAsync(child));

        Assert.Equal((child, parent, JobConflictKind.DependencyNotCompleted), (conflict.JobId, conflict.ConflictingJobId, conflict.Kind));
        Assert.Contains($"job {Id(parent)}", conflict.Message, StringComparison.Ordinal);
        Assert.Contains((await GetAsync(parent)).State.ToName(), conflict.Message, StringComparison.Ordinal);
        var after = await GetAsync(child);
        Assert.Equal((JobState.DeadLetter, before.Reason, before.FinishedAt), (after.State, after.Reason, after.FinishedAt));
        Assert.Empty(await LeaseAsync(10, "w1", null, "docs"));
    }

    [Fact]
    public async Task A_retried_dependent_waits_pending_behind_its_retried_parent_and_runs_once_it_completes()
    {
        var (parent, child) = await DeadDependentAsync(OutcomeKind.DeadLetter);

        Assert.Equal(AdminResult.Ok, await Store.RetryAsync(parent));
        Assert.Equal(AdminResult.Ok, await Store.RetryAsync(child));

        var waiting = await GetAsync(child);
        Assert.Equal((JobState.Pending, 0, null), (waiting.State, waiting.Attempt, waiting.FinishedAt));
        Assert.Empty(await LeaseAsync(10, "w1", null, "docs"));
        var again = await LeaseOneAsync(queue: "parents");
        Assert.Equal(parent, again.Id);
        await FinishAsync(JobOutcome.Complete(again.Token));
        Assert.Equal(child, (await LeaseOneAsync(queue: "docs")).Id);
    }

    [Fact]
    public async Task A_retried_dependent_goes_back_to_dead_letter_when_its_retried_parent_fails_again()
    {
        var (parent, child) = await DeadDependentAsync(OutcomeKind.Fail);
        await Store.RetryAsync(parent);
        await Store.RetryAsync(child);

        var again = await LeaseOneAsync(queue: "parents");
        await FinishAsync(OutcomeOf(OutcomeKind.Fail, again.Token));

        var dead = await GetAsync(child);
        Assert.Equal(JobState.DeadLetter, dead.State);
        Assert.Contains(Id(parent), dead.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_dependent_of_a_live_parent_is_retried_to_pending()
    {
        await EnqueueAsync("parents");
        var parent = await LeaseOneAsync(queue: "parents");
        var child = await EnqueueAsync(TestJobs.New("docs", dependsOn: [parent.Id]));
        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(child));

        Assert.Equal(AdminResult.Ok, await Store.RetryAsync(child));

        Assert.Equal(JobState.Pending, (await GetAsync(child)).State);
        await FinishAsync(JobOutcome.Complete(parent.Token));
        Assert.Equal(JobState.Ready, (await GetAsync(child)).State);
    }

    [Fact]
    public async Task Retrying_all_dead_letters_retries_a_chain_parents_first_and_it_runs_in_order()
    {
        var ids = await Client.EnqueueFlowAsync(new FlowBuilder()
            .AddJson("extract", "docs", "doc.extract", "{}")
            .AddJson("ocr", "docs", "doc.ocr", "{}", dependsOn: ["extract"])
            .AddJson("embed", "docs", "doc.embed", "{}", dependsOn: ["ocr"]));
        var root = await LeaseOneAsync(queue: "docs");
        await FinishAsync(OutcomeOf(OutcomeKind.DeadLetter, root.Token));

        Assert.Equal(3, await Store.RetryDeadLettersAsync("docs"));

        Assert.Equal(JobState.Ready, (await GetAsync(ids["extract"])).State);
        Assert.Equal(JobState.Pending, (await GetAsync(ids["ocr"])).State);
        Assert.Equal(JobState.Pending, (await GetAsync(ids["embed"])).State);
        Assert.Equal(["extract", "ocr", "embed"], await RunToEndAsync(ids));
    }

    [Fact]
    public async Task Retrying_all_dead_letters_leaves_those_whose_dependency_stays_failed_or_whose_key_is_held()
    {
        var (_, orphan) = await DeadDependentAsync(OutcomeKind.Fail);
        var keyed = await EnqueueAsync(TestJobs.New("docs", key: "report-7"));
        await FinishAsync(OutcomeOf(OutcomeKind.DeadLetter, (await LeaseOneAsync(queue: "docs")).Token));
        var plain = await EnqueueAsync(TestJobs.New("docs"));
        await FinishAsync(OutcomeOf(OutcomeKind.DeadLetter, (await LeaseOneAsync(queue: "docs")).Token));
        Assert.Equal(JobState.DeadLetter, (await GetAsync(plain)).State);
        var holder = await EnqueueAsync(TestJobs.New("docs", key: "report-7"));

        Assert.Equal(1, await Store.RetryDeadLettersAsync("docs"));

        Assert.Equal(JobState.Ready, (await GetAsync(plain)).State);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(orphan)).State);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(keyed)).State);
        Assert.Equal(holder, (await Query.FindByKeyAsync("report-7"))!.Id);
    }

    [Theory]
    [InlineData(OutcomeKind.Fail)]
    [InlineData(OutcomeKind.DeadLetter)]
    [InlineData(OutcomeKind.Cancelled)]
    public async Task Retrying_a_job_whose_key_a_live_job_now_holds_is_refused_naming_that_job(OutcomeKind end)
    {
        var first = await EnqueueAsync(TestJobs.New(key: "invoice-42"));
        await FinishAsync(OutcomeOf(end, (await LeaseOneAsync()).Token));
        var holder = await EnqueueAsync(TestJobs.New(key: "invoice-42"));
        Assert.NotEqual(first, holder);

        var conflict = await Assert.ThrowsAsync<JobConflictException>(() => Store.RetryAsync(first));

        Assert.Equal((first, holder, JobConflictKind.KeyHeld), (conflict.JobId, conflict.ConflictingJobId, conflict.Kind));
        Assert.Contains($"job {Id(holder)}", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("invoice-42", conflict.Message, StringComparison.Ordinal);
        Assert.NotEqual(JobState.Ready, (await GetAsync(first)).State);
        Assert.Equal(JobState.Ready, (await GetAsync(holder)).State);

        // Once the holder finishes, the key is free and the retry goes through.
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync()).Token));
        Assert.Equal(AdminResult.Ok, await Store.RetryAsync(first));
        Assert.Equal(first, (await Query.FindByKeyAsync("invoice-42"))!.Id);
        Assert.True((await Store.EnqueueAsync([TestJobs.New(key: "invoice-42")]))[0] is { Deduplicated: true } dedup && dedup.Id == first);
    }

    [Theory]
    [InlineData(JobState.Ready)]
    [InlineData(JobState.Scheduled)]
    [InlineData(JobState.Pending)]
    public async Task Deleting_a_waiting_parent_dead_letters_its_dependents_down_the_graph_with_the_reason(JobState waiting)
    {
        var parent = waiting switch
        {
            JobState.Scheduled => await EnqueueAsync(TestJobs.New("parents", runAt: Now.AddHours(1))),
            JobState.Pending => await EnqueueAsync(TestJobs.New("parents", dependsOn: [await EnqueueAsync("grandparents")])),
            _ => await EnqueueAsync("parents"),
        };
        Assert.Equal(waiting, (await GetAsync(parent)).State);
        var child = await EnqueueAsync(TestJobs.New("docs", dependsOn: [parent]));
        var grandchild = await EnqueueAsync(TestJobs.New("docs", dependsOn: [child]));
        Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, await Store.DeleteJobsAsync("parents", waiting, Now));

        Assert.Null(await Query.GetJobAsync(parent));
        var dead = await GetAsync(child);
        Assert.Equal(JobState.DeadLetter, dead.State);
        Assert.Contains(Id(parent), dead.Reason, StringComparison.Ordinal);
        Assert.Contains("deleted", dead.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(dead.Errors, e => e.Category == FailureCategory.Dependency);
        var deadGrandchild = await GetAsync(grandchild);
        Assert.Equal(JobState.DeadLetter, deadGrandchild.State);
        Assert.Contains(Id(child), deadGrandchild.Reason, StringComparison.Ordinal);
        Assert.Equal(0, (await Query.GetQueuesAsync()).Single(q => q.Queue == "docs")[JobState.Pending]);
    }

    [Fact]
    public async Task A_dependent_that_becomes_ready_is_held_by_its_paused_queue_and_then_leased_by_priority()
    {
        await EnqueueAsync("parents");
        var parent = await LeaseOneAsync(queue: "parents");
        var low = await EnqueueAsync(TestJobs.New("docs", priority: 0, dependsOn: [parent.Id]));
        var high = await EnqueueAsync(TestJobs.New("docs", priority: 9, dependsOn: [parent.Id]));
        var middle = await EnqueueAsync(TestJobs.New("docs", priority: 5));
        await Store.SetQueuePausedAsync("docs", true);

        await FinishAsync(JobOutcome.Complete(parent.Token));

        Assert.Equal(JobState.Ready, (await GetAsync(low)).State);
        Assert.Equal(JobState.Ready, (await GetAsync(high)).State);
        Assert.Empty(await LeaseAsync(10, "w1", null, "docs"));
        await Store.SetQueuePausedAsync("docs", false);
        var order = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            order.Add((await LeaseOneAsync(queue: "docs")).Id);
        }

        Assert.Equal([high, middle, low], order);
    }

    [Fact]
    public async Task A_job_whose_parent_was_purged_after_completing_is_retried_to_ready()
    {
        var parent = await EnqueueAsync("parents");
        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync(queue: "parents")).Token));
        var child = await EnqueueAsync(TestJobs.New("docs", dependsOn: [parent]));
        await FinishAsync(OutcomeOf(OutcomeKind.Fail, (await LeaseOneAsync(queue: "docs")).Token));
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Store.DeleteJobsAsync("parents", JobState.Completed, Now));

        Assert.Equal(AdminResult.Ok, await Store.RetryAsync(child));

        Assert.Equal(JobState.Ready, (await GetAsync(child)).State);
    }
}
