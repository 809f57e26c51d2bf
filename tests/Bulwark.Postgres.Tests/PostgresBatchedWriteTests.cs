using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// The set-wise hot path (one statement per finish batch, one per run of plain enqueues) gives exactly what the one-row
/// path gives: the same results in the same order, the same rows afterwards.
/// </summary>
public sealed class PostgresBatchedWriteTests : IAsyncLifetime
{
    private readonly string _batchedSchema = PostgresTestDatabase.NewSchema("pgbatch");
    private readonly string _singleSchema = PostgresTestDatabase.NewSchema("pgsingle");
    private readonly List<PostgresJobStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await PostgresTestDatabase.DropSchemaAsync(_batchedSchema);
        await PostgresTestDatabase.DropSchemaAsync(_singleSchema);
    }

    private async Task<PostgresJobStore> OpenAsync(string schema)
    {
        var store = await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresTestDatabase.ConnectionString, Schema = schema, Listen = false });
        _stores.Add(store);
        return store;
    }

    /// <summary>Six running jobs (leased once), a pending child of the first and one of the fifth.</summary>
    private static async Task<(IReadOnlyList<LeasedJob> Leased, long ChildOfFirst, long ChildOfFifth)> ArrangeAsync(PostgresJobStore store)
    {
        var ids = await store.EnqueueAsync([.. Enumerable.Range(0, 6).Select(i => TestJobs.New("mixed", payload: $$"""{"n":{{i}}}"""))]);
        var children = await store.EnqueueAsync([TestJobs.New("mixed", dependsOn: [ids[0].Id]), TestJobs.New("mixed", dependsOn: [ids[4].Id])]);
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["mixed"], 10, TimeSpan.FromMinutes(5)));
        Assert.Equal(ids.Select(r => r.Id), leased.Select(j => j.Id));
        return (leased, children[0].Id, children[1].Id);
    }

    private static List<JobOutcome> MixedBatch(IReadOnlyList<LeasedJob> j)
    {
        var at = DateTimeOffset.UnixEpoch;
        return
        [
            JobOutcome.Complete(j[0].Token, """{"ok":1}"""),
            JobOutcome.Retry(j[1].Token, TestJobs.Error(1, at), TimeSpan.FromMinutes(3)),
            JobOutcome.Complete(j[2].Token with { Epoch = j[2].Token.Epoch - 1 }),
            JobOutcome.Complete(j[3].Token),
            JobOutcome.Complete(j[3].Token),
            JobOutcome.Fail(j[4].Token, TestJobs.Error(1, at, FailureCategory.Permanent, "bad input")),
            JobOutcome.Complete(new LeaseToken(987_654_321, 1)),
            JobOutcome.Release(j[5].Token, TestJobs.Error(1, at, FailureCategory.Shutdown, "draining")),
            JobOutcome.DeadLetter(j[2].Token, TestJobs.Error(1, at), "gave up"),
        ];
    }

    [Fact]
    public async Task A_mixed_finish_batch_gives_the_same_results_and_rows_as_one_outcome_at_a_time()
    {
        var batched = await OpenAsync(_batchedSchema);
        var single = await OpenAsync(_singleSchema);
        var (leasedA, childA1, childA5) = await ArrangeAsync(batched);
        var (leasedB, _, _) = await ArrangeAsync(single);

        var batchResults = await batched.FinishAsync(MixedBatch(leasedA));
        var singleResults = new List<FenceResult>();
        foreach (var outcome in MixedBatch(leasedB))
        {
            singleResults.AddRange(await single.FinishAsync([outcome]));
        }

        FenceResult[] expected =
        [
            FenceResult.Ok, FenceResult.Ok, FenceResult.LeaseLost, FenceResult.Ok, FenceResult.NotRunning,
            FenceResult.Ok, FenceResult.NotFound, FenceResult.Ok, FenceResult.Ok,
        ];
        Assert.Equal(expected, batchResults);
        Assert.Equal(expected, singleResults);

        var rowsA = (await batched.ListJobsAsync(new JobListQuery { Limit = 100 })).Items.OrderBy(j => j.Id).ToList();
        var rowsB = (await single.ListJobsAsync(new JobListQuery { Limit = 100 })).Items.OrderBy(j => j.Id).ToList();
        Assert.Equal(rowsB.Count, rowsA.Count);
        foreach (var (a, b) in rowsA.Zip(rowsB))
        {
            Assert.Equal((b.Id, b.State, b.Attempt, b.Result, b.Reason, b.Errors.Count, b.LeaseOwner), (a.Id, a.State, a.Attempt, a.Result, a.Reason, a.Errors.Count, a.LeaseOwner));
            Assert.Equal(b.FinishedAt is null, a.FinishedAt is null);
        }

        Assert.Equal(
            [JobState.Completed, JobState.Scheduled, JobState.DeadLetter, JobState.Completed, JobState.Failed, JobState.Ready, JobState.Ready, JobState.DeadLetter],
            rowsA.Select(j => j.State));
        Assert.Equal("""{"ok":1}""", rowsA[0].Result);
        Assert.True(rowsA[1].RunAt > DateTimeOffset.UtcNow.AddMinutes(2), "the retry waits its delay");
        Assert.Equal(0, rowsA[5].Attempt);
        Assert.Equal(childA1, rowsA[6].Id);
        Assert.Equal(childA5, rowsA[7].Id);
        Assert.Contains($"Dependency {leasedA[4].Id} ended failed", rowsA[7].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_jobs_between_keyed_and_dependent_ones_get_ids_in_batch_order()
    {
        var store = await OpenAsync(_batchedSchema);
        var existing = await store.EnqueueAsync([TestJobs.New("order", key: "taken")]);
        // Whole seconds: PostgreSQL keeps microseconds, .NET ticks.
        var at = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());
        NewJob[] batch =
        [
            TestJobs.New("order", payload: """{"n":0}"""),
            TestJobs.New("order", payload: """{"n":1}""", priority: 5, runAt: at),
            TestJobs.New("order", key: "taken"),
            TestJobs.New("order", payload: """{"n":3}""", expiresAt: at),
            TestJobs.New("order", key: "fresh"),
            TestJobs.New("order", dependsOn: [existing[0].Id]),
            TestJobs.New("order", payload: """{"n":6}"""),
            TestJobs.New("order", payload: """{"n":7}"""),
        ];

        var results = await store.EnqueueAsync(batch);

        Assert.Equal(existing[0].Id, results[2].Id);
        Assert.True(results[2].Deduplicated);
        var created = results.Where(r => !r.Deduplicated).Select(r => r.Id).ToList();
        Assert.Equal(7, created.Count);
        Assert.Equal(created.Order(), created);
        foreach (var (job, result) in batch.Zip(results).Where(p => !p.Second.Deduplicated))
        {
            var row = await store.GetJobAsync(result.Id);
            Assert.NotNull(row);
            Assert.Equal((job.Payload, job.Priority, job.Key, job.ExpiresAt), (row.Payload, row.Priority, row.Key, row.ExpiresAt));
        }

        Assert.Equal(JobState.Scheduled, (await store.GetJobAsync(results[1].Id))!.State);
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(results[0].Id))!.State);
        Assert.Equal(JobState.Pending, (await store.GetJobAsync(results[5].Id))!.State);
    }

    [Fact]
    public async Task A_refused_enqueue_in_a_group_commit_batch_leaves_its_neighbours_committed()
    {
        var store = await OpenAsync(_batchedSchema);

        // Concurrent callers share writer batches; the refused one (an unknown parent) must not take the others down.
        var tasks = Enumerable.Range(0, 40)
            .Select(i => i % 10 == 3
                ? store.EnqueueAsync([TestJobs.New("neighbours", dependsOn: [999_999_999])])
                : store.EnqueueAsync([TestJobs.New("neighbours", payload: $$"""{"n":{{i}}}""")]))
            .ToList();
        foreach (var (task, i) in tasks.Select((t, i) => (t, i)))
        {
            if (i % 10 == 3)
            {
                var refused = await Assert.ThrowsAsync<JobValidationException>(() => task);
                Assert.Contains("999999999", refused.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.NotNull(await store.GetJobAsync((await task)[0].Id));
            }
        }

        Assert.Equal(36, (await store.ListJobsAsync(new JobListQuery { Queue = "neighbours", Limit = 100 })).Items.Count);
    }
}
