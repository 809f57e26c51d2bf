using Bulwark.Jobs;
using Bulwark.StoreContract;
using Bulwark.Workers;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// <see cref="SqliteJobStore.EnqueueAsync(SqliteTransaction, IReadOnlyList{NewJob}, CancellationToken)"/> on an
/// application's own connection to the store's file (no EF Core): the job exists only once that transaction commits,
/// the store's writer waits for the application's lock instead of failing, and <see cref="SqliteJobStore.Committed"/>
/// wakes workers for leasable jobs only, once.
/// </summary>
public sealed class SqliteTransactionalEnqueueTests : IDisposable
{
    private static readonly TimeSpan Never = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task The_job_exists_once_the_callers_transaction_commits_and_the_stores_writer_waits_for_it()
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, CrossProcessWakeUp = false });
        await using var app = new SqliteConnection($"Data Source={_db.Path}");
        await app.OpenAsync();
        await using var tx = app.BeginTransaction();

        var id = (await store.EnqueueAsync(tx, [TestJobs.New("orders", key: "order-1")]))[0].Id;
        Assert.Null(await store.GetJobAsync(id));
        // The application holds the file's write lock: the store's own write waits for it (BusyTimeout) rather than failing.
        var meanwhile = store.EnqueueAsync([TestJobs.New("orders", key: "order-1")]);
        await tx.CommitAsync();

        var after = Assert.Single(await meanwhile.WaitAsync(Deadline));
        Assert.Equal(id, after.Id);
        Assert.True(after.Deduplicated);
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task A_rolled_back_transaction_leaves_no_job_and_frees_its_key()
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, CrossProcessWakeUp = false });
        await using var app = new SqliteConnection($"Data Source={_db.Path}");
        await app.OpenAsync();
        long id;
        await using (var tx = app.BeginTransaction())
        {
            id = (await store.EnqueueAsync(tx, [TestJobs.New("orders", key: "order-2")]))[0].Id;
            await tx.RollbackAsync();
        }

        Assert.Null(await store.GetJobAsync(id));
        Assert.False(Assert.Single(await store.EnqueueAsync([TestJobs.New("orders", key: "order-2")])).Deduplicated);
    }

    [Fact]
    public async Task Committed_wakes_this_process_and_rings_others_for_ready_jobs_only_and_once()
    {
        var signal = new JobSignal();
        var elsewhere = new JobSignal();
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = signal });
        await using var other = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = elsewhere });
        await using var app = new SqliteConnection($"Data Source={_db.Path}");
        await app.OpenAsync();

        // A scheduled job: nothing to wake anyone for.
        await using (var tx = app.BeginTransaction())
        {
            await store.EnqueueAsync(tx, [TestJobs.New("orders", runAt: DateTimeOffset.UtcNow.AddHours(1))]);
            await tx.CommitAsync();
            store.Committed(tx);
        }

        Assert.Equal(0, store.Doorbell!.Rings);

        await using (var tx = app.BeginTransaction())
        {
            await store.EnqueueAsync(tx, [TestJobs.New("orders")]);
            var here = signal.WaitAsync(Never, TimeProvider.System, CancellationToken.None);
            var there = elsewhere.WaitAsync(Never, TimeProvider.System, CancellationToken.None);
            await tx.CommitAsync();
            Assert.False(here.IsCompleted, "woken before the store was told of the commit");
            store.Committed(tx);
            await here.WaitAsync(Deadline);
            await there.WaitAsync(Deadline);
            var rings = store.Doorbell.Rings;
            store.Committed(tx);
            Assert.Equal(rings, store.Doorbell.Rings);
        }
    }

    [Fact]
    public async Task A_refused_job_of_a_batch_undoes_the_batch_but_not_the_callers_own_changes()
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, CrossProcessWakeUp = false });
        await using var app = new SqliteConnection($"Data Source={_db.Path}");
        await app.OpenAsync();
        await using (var setup = app.CreateCommand())
        {
            setup.CommandText = "CREATE TABLE app_orders (id INTEGER PRIMARY KEY)";
            await setup.ExecuteNonQueryAsync();
        }

        await using (var tx = app.BeginTransaction())
        {
            await using var insert = app.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO app_orders (id) VALUES (7)";
            await insert.ExecuteNonQueryAsync();

            var error = await Assert.ThrowsAsync<JobValidationException>(() => store.EnqueueAsync(tx, [TestJobs.New("orders"), TestJobs.New("orders", dependsOn: [424242])]));
            Assert.Equal(JobValidationKind.UnknownReference, error.Kind);
            await tx.CommitAsync();
        }

        Assert.Empty((await store.ListJobsAsync(new Bulwark.Storage.JobListQuery("orders"))).Items);
        await using var count = app.CreateCommand();
        count.CommandText = "SELECT count(*) FROM app_orders";
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }
}
