using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    /// <summary>Every edge of <see cref="JobTransitions.All"/>, as theory data.</summary>
    public static TheoryData<JobState, JobState, JobTrigger> Edges()
    {
        var data = new TheoryData<JobState, JobState, JobTrigger>();
        foreach (var edge in JobTransitions.All)
        {
            data.Add(edge.From, edge.To, edge.Trigger);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Edges), MemberType = typeof(JobStoreContractTests))]
    public async Task Every_edge_of_the_transition_table_is_reachable_through_the_store(JobState from, JobState to, JobTrigger trigger)
    {
        var id = await DriveEdgeAsync(from, to, trigger);

        Assert.Equal(to, (await GetAsync(id)).State);
    }

    [Fact]
    public async Task A_released_or_reclaimed_job_keeps_its_place_in_line()
    {
        var first = await EnqueueAsync();
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await EnqueueAsync();
        Time.Advance(TimeSpan.FromSeconds(1));
        var leased = await LeaseOneAsync();
        Assert.Equal(first, leased.Id);

        await FinishAsync(JobOutcome.Release(leased.Token, ErrorOf(leased, FailureCategory.Shutdown)));
        Assert.Equal(first, (await LeaseOneAsync()).Id);

        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        await Store.ReclaimAsync(TimeSpan.FromHours(1));
        Assert.Equal(first, (await LeaseOneAsync()).Id);
        Assert.Equal(second, (await LeaseOneAsync()).Id);
    }

    /// <summary>Puts a fresh job in <paramref name="from"/>, then causes the edge through the store method that owns it.</summary>
    private async Task<long> DriveEdgeAsync(JobState from, JobState to, JobTrigger trigger)
    {
        switch (from, to, trigger)
        {
            case (JobState.Pending, JobState.Ready, JobTrigger.DependenciesCompleted):
            {
                var (parent, child) = await PendingChildAsync(TestJobs.New());
                await FinishAsync(JobOutcome.Complete(parent.Token));
                return child;
            }

            case (JobState.Pending, JobState.Scheduled, JobTrigger.DependenciesCompleted):
            {
                var (parent, child) = await PendingChildAsync(TestJobs.New(runAt: Now.AddHours(1)));
                await FinishAsync(JobOutcome.Complete(parent.Token));
                return child;
            }

            case (JobState.Pending, JobState.DeadLetter, JobTrigger.DependencyFailed):
            {
                var (parent, child) = await PendingChildAsync(TestJobs.New());
                await FinishAsync(JobOutcome.Fail(parent.Token, ErrorOf(parent, FailureCategory.Permanent)));
                return child;
            }

            case (JobState.Pending, JobState.DeadLetter, JobTrigger.Expire):
            {
                var (_, child) = await PendingChildAsync(TestJobs.New(expiresAt: Now.AddMinutes(1)));
                return await ExpireAsync(child);
            }

            case (JobState.Pending, JobState.Cancelled, JobTrigger.Cancel):
            {
                var (_, child) = await PendingChildAsync(TestJobs.New());
                Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(child));
                return child;
            }

            case (JobState.Scheduled, JobState.Ready, JobTrigger.Due):
            {
                var id = await EnqueueAsync(TestJobs.New(runAt: Now.AddMinutes(1)));
                Time.Advance(TimeSpan.FromMinutes(2));
                Assert.Equal(1, await Store.PromoteDueAsync());
                return id;
            }

            case (JobState.Scheduled, JobState.DeadLetter, JobTrigger.Expire):
                return await ExpireAsync(await EnqueueAsync(TestJobs.New(runAt: Now.AddSeconds(30), expiresAt: Now.AddMinutes(1))));

            case (JobState.Scheduled, JobState.Cancelled, JobTrigger.Cancel):
            {
                var id = await EnqueueAsync(TestJobs.New(runAt: Now.AddMinutes(1)));
                Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(id));
                return id;
            }

            case (JobState.Ready, JobState.Running, JobTrigger.Lease):
            {
                var id = await EnqueueAsync();
                Assert.Equal(id, (await LeaseOneAsync()).Id);
                return id;
            }

            case (JobState.Ready, JobState.DeadLetter, JobTrigger.Expire):
                return await ExpireAsync(await EnqueueAsync(TestJobs.New(expiresAt: Now.AddMinutes(1))));

            case (JobState.Ready, JobState.Cancelled, JobTrigger.Cancel):
            {
                var id = await EnqueueAsync();
                Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(id));
                return id;
            }

            case (JobState.Running, _, JobTrigger.Complete or JobTrigger.Retry or JobTrigger.FailPermanently or JobTrigger.AttemptsExhausted or JobTrigger.Release):
            {
                var id = await EnqueueAsync();
                var leased = await LeaseOneAsync();
                var kind = trigger switch
                {
                    JobTrigger.Complete => OutcomeKind.Complete,
                    JobTrigger.Retry => OutcomeKind.Retry,
                    JobTrigger.FailPermanently => OutcomeKind.Fail,
                    JobTrigger.AttemptsExhausted => OutcomeKind.DeadLetter,
                    _ => OutcomeKind.Release,
                };
                Assert.Equal(FenceResult.Ok, await FinishAsync(OutcomeOf(kind, leased.Token)));
                return id;
            }

            case (JobState.Running, JobState.Ready, JobTrigger.Reclaim):
            {
                var id = await EnqueueAsync(maxAttempts: 2);
                await LeaseOneAsync();
                Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
                Assert.Equal([id], (await Store.ReclaimAsync(TimeSpan.FromHours(1))).Reclaimed);
                return id;
            }

            case (JobState.Running, JobState.DeadLetter, JobTrigger.Poison):
            {
                var id = await EnqueueAsync(maxAttempts: 1);
                await LeaseOneAsync();
                Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
                Assert.Equal([id], (await Store.ReclaimAsync(TimeSpan.FromHours(1))).Poisoned);
                return id;
            }

            case (JobState.Running, JobState.DeadLetter, JobTrigger.Expire):
            {
                var id = await EnqueueAsync(TestJobs.New(expiresAt: Now.AddMinutes(1)));
                await LeaseOneAsync(lease: TimeSpan.FromHours(1));
                return await ExpireAsync(id);
            }

            case (JobState.Running, JobState.Cancelled, JobTrigger.Cancel):
            {
                var id = await EnqueueAsync();
                var leased = await LeaseOneAsync();
                Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(id));
                Assert.Equal(FenceResult.Ok, await FinishAsync(OutcomeOf(OutcomeKind.Cancelled, leased.Token)));
                return id;
            }

            case (JobState.Failed or JobState.DeadLetter or JobState.Cancelled, JobState.Ready, JobTrigger.ManualRetry):
            {
                var id = await EnqueueAsync();
                var leased = await LeaseOneAsync();
                var kind = from switch
                {
                    JobState.Failed => OutcomeKind.Fail,
                    JobState.DeadLetter => OutcomeKind.DeadLetter,
                    _ => OutcomeKind.Cancelled,
                };
                await FinishAsync(OutcomeOf(kind, leased.Token));
                Assert.Equal(from, (await GetAsync(id)).State);
                Assert.Equal(AdminResult.Ok, await Store.RetryAsync(id));
                return id;
            }

            case (JobState.DeadLetter, JobState.Pending, JobTrigger.ManualRetry):
            {
                // The parent fails, its dependent goes to dead letter; the parent is retried (live again), then the dependent.
                await EnqueueAsync("parents");
                var parent = await LeaseOneAsync(queue: "parents");
                var child = await EnqueueAsync(TestJobs.New(dependsOn: [parent.Id]));
                await FinishAsync(OutcomeOf(OutcomeKind.Fail, parent.Token));
                Assert.Equal(from, (await GetAsync(child)).State);
                Assert.Equal(AdminResult.Ok, await Store.RetryAsync(parent.Id));
                Assert.Equal(AdminResult.Ok, await Store.RetryAsync(child));
                return child;
            }

            case (JobState.Cancelled, JobState.Pending, JobTrigger.ManualRetry):
            {
                var (_, child) = await PendingChildAsync(TestJobs.New());
                Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(child));
                Assert.Equal(AdminResult.Ok, await Store.RetryAsync(child));
                return child;
            }

            default:
                throw new InvalidOperationException($"The contract suite has no driver for {from} → {to} on {trigger}; add one.");
        }

        async Task<(LeasedJob Parent, long Child)> PendingChildAsync(NewJob child)
        {
            await EnqueueAsync("parents");
            var parent = await LeaseOneAsync(queue: "parents");
            var childId = await EnqueueAsync(child with { DependsOn = [parent.Id] });
            Assert.Equal(JobState.Pending, (await GetAsync(childId)).State);
            return (parent, childId);
        }

        async Task<long> ExpireAsync(long id)
        {
            Assert.Equal(from, (await GetAsync(id)).State);
            Time.Advance(TimeSpan.FromMinutes(2));
            Assert.Equal(1, await Store.ExpireAsync());
            return id;
        }
    }
}
