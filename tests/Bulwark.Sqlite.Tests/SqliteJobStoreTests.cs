using System.Collections.Concurrent;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>What the SQLite store adds to the contract: file integrity, schema versions, group commit, several instances on one file.</summary>
public sealed class SqliteJobStoreTests : IDisposable
{
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _database.Dispose();

    private SqliteJobStore Open(int maxBatchSize = 512) =>
        SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, Time = _time, MaxBatchSize = maxBatchSize });

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_and_left_unchanged()
    {
        var garbage = new byte[64 * 1024];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(_database.Path, garbage);

        var error = Assert.Throws<StoreCorruptException>(() => Open());

        Assert.Contains(_database.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("restore", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(garbage, File.ReadAllBytes(_database.Path));
        Assert.False(File.Exists(_database.Path + "-wal"));
    }

    [Fact]
    public async Task A_database_with_damaged_pages_is_refused_and_left_unchanged()
    {
        await using (var store = Open())
        {
            var jobs = Enumerable.Range(0, 2000).Select(i => TestJobs.New(payload: $$"""{"i":{{i}},"pad":"{{new string('x', 200)}}"}""")).ToArray();
            await store.EnqueueAsync(jobs);
        }

        Checkpoint(_database.Path);
        var bytes = File.ReadAllBytes(_database.Path);
        Assert.True(bytes.Length > 40 * 4096);
        // Overwrite pages in the middle of the file (table and index b-tree pages), keeping the header intact.
        new Random(3).NextBytes(bytes.AsSpan(20 * 4096, 8 * 4096));
        File.WriteAllBytes(_database.Path, bytes);

        var error = Assert.Throws<StoreCorruptException>(() => Open());

        Assert.Contains(_database.Path, error.Message, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(_database.Path));
    }

    [Fact]
    public async Task A_file_written_by_a_newer_schema_is_refused_with_its_version()
    {
        await using (Open())
        {
        }

        using (var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {SqliteSchema.CurrentVersion + 5}";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<InvalidOperationException>(() => Open());

        Assert.Contains($"schema version {SqliteSchema.CurrentVersion + 5}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"knows versions up to {SqliteSchema.CurrentVersion}", error.Message, StringComparison.Ordinal);
        Assert.Contains("newer Bulwark", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_file_is_migrated_to_the_current_version_in_wal_mode_with_full_sync()
    {
        await using var store = Open();

        using var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        Assert.Equal(SqliteSchema.CurrentVersion, SqliteSchema.ReadVersion(connection));
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal(SqliteSchema.CurrentVersion, SqliteSchema.Migrations.Length);
    }

    [Fact]
    public async Task The_writer_syncs_fully_and_keeps_its_temporary_data_in_memory()
    {
        await using var store = Open();

        // synchronous: 2 = FULL (every commit fsynced). temp_store: 2 = MEMORY (statement journals never hit /var/tmp).
        Assert.Equal(2, await store.WriterPragmaAsync("synchronous"));
        Assert.Equal(2, await store.WriterPragmaAsync("temp_store"));
    }

    [Fact]
    public async Task A_batch_of_plain_completions_fences_each_token_and_releases_the_dependents_of_its_parents()
    {
        await using var store = Open();
        var parents = (await store.EnqueueAsync([TestJobs.New(), TestJobs.New(), TestJobs.New()])).Select(r => r.Id).ToArray();
        var child = (await store.EnqueueAsync([TestJobs.New(queue: "children", dependsOn: [parents[1]])]))[0].Id;
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 3, TimeSpan.FromMinutes(1)));
        Assert.Equal(parents, leased.Select(j => j.Token.JobId));

        var results = await store.FinishAsync(
        [
            JobOutcome.Complete(leased[0].Token),
            JobOutcome.Complete(leased[1].Token),
            JobOutcome.Complete(new LeaseToken(leased[2].Token.JobId, leased[2].Token.Epoch + 1)),
            JobOutcome.Complete(new LeaseToken(999_999, 1)),
        ]);

        Assert.Equal([FenceResult.Ok, FenceResult.Ok, FenceResult.LeaseLost, FenceResult.NotFound], results);
        Assert.Equal(JobState.Completed, (await store.GetJobAsync(parents[0]))!.State);
        Assert.Equal(JobState.Completed, (await store.GetJobAsync(parents[1]))!.State);
        Assert.Equal(JobState.Running, (await store.GetJobAsync(parents[2]))!.State);
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(child))!.State);
    }

    [Fact]
    public async Task A_large_mixed_batch_gets_ids_in_batch_order_with_each_jobs_own_fields()
    {
        await using var store = Open();
        var existing = (await store.EnqueueAsync([TestJobs.New(key: "dup")]))[0].Id;
        // Runs of plain jobs are inserted many rows per statement; keyed and delayed jobs sit between and inside them.
        var jobs = Enumerable.Range(0, 75).Select(i =>
            i == 40 ? TestJobs.New(key: "dup", payload: $$"""{"i":{{i}}}""")
            : i == 50 ? TestJobs.New(key: "fresh", payload: $$"""{"i":{{i}}}""")
            : TestJobs.New(priority: i % 4, runAt: i == 10 ? _time.GetUtcNow().AddMinutes(5) : null, payload: $$"""{"i":{{i}}}""")).ToArray();

        var results = await store.EnqueueAsync(jobs);

        Assert.Equal(existing, results[40].Id);
        Assert.True(results[40].Deduplicated);
        var fresh = results.Where((_, i) => i != 40).Select(r => r.Id).ToList();
        Assert.Equal(fresh.Order(), fresh);
        Assert.Equal(fresh.Count, fresh.Distinct().Count());
        for (var i = 0; i < jobs.Length; i++)
        {
            if (i == 40)
            {
                continue;
            }

            var job = (await store.GetJobAsync(results[i].Id))!;
            Assert.Equal($$"""{"i":{{i}}}""", job.Payload);
            Assert.Equal(i == 50 ? 0 : i % 4, job.Priority);
            Assert.Equal(i == 10 ? JobState.Scheduled : JobState.Ready, job.State);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_001)]
    public void Bad_options_are_refused_with_the_option_to_change(int maxBatchSize)
    {
        var error = Assert.Throws<ArgumentException>(() => SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, MaxBatchSize = maxBatchSize }));

        Assert.Contains("MaxBatchSize", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_database.Path));
    }

    [Fact]
    public async Task Ids_are_never_reused_even_after_the_newest_job_is_purged_and_the_file_reopened()
    {
        long last;
        await using (var store = Open())
        {
            last = (await store.EnqueueAsync([TestJobs.New()]))[0].Id;
            var leased = Assert.Single(await store.LeaseAsync(new LeaseRequest("w1", ["default"], 1, TimeSpan.FromSeconds(10))));
            Assert.Equal(FenceResult.Ok, Assert.Single(await store.FinishAsync([JobOutcome.Complete(leased.Token)])));
            _time.Advance(TimeSpan.FromDays(2));
            Assert.Equal(1, await store.PurgeAsync(RetentionPolicy.Default));
        }

        await using var reopened = Open();
        Assert.True((await reopened.EnqueueAsync([TestJobs.New()]))[0].Id > last);
    }

    [Fact]
    public async Task Concurrent_single_enqueues_share_far_fewer_commits_than_calls()
    {
        await using var store = Open();
        var commitsBefore = store.Commits;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var calls = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return (await store.EnqueueAsync([TestJobs.New(payload: $$"""{"i":{{i}}}""")]))[0].Id;
        })).ToArray();
        start.SetResult();
        var ids = await Task.WhenAll(calls);

        Assert.Equal(200, ids.Distinct().Count());
        var commits = store.Commits - commitsBefore;
        Assert.InRange(commits, 1, 50);
        Assert.Equal(200, (await store.GetQueuesAsync()).Single(q => q.Queue == "default")[JobState.Ready]);
    }

    [Fact]
    public async Task One_refused_write_in_a_batch_fails_only_its_caller()
    {
        await using var store = Open();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var good = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            return (await store.EnqueueAsync([TestJobs.New()]))[0].Id;
        })).ToArray();
        var bad = Task.Run(async () =>
        {
            await start.Task;
            return await store.EnqueueAsync([TestJobs.New(queue: "bad"), TestJobs.New(queue: "bad", dependsOn: [999_999])]);
        });
        start.SetResult();

        var error = await Assert.ThrowsAsync<JobValidationException>(() => bad);
        var ids = await Task.WhenAll(good);

        Assert.Equal(JobValidationKind.UnknownReference, error.Kind);
        Assert.Contains("999999", error.Message, StringComparison.Ordinal);
        Assert.Equal(50, ids.Distinct().Count());
        Assert.DoesNotContain(await store.GetQueuesAsync(), q => q.Queue == "bad");
        foreach (var id in ids)
        {
            Assert.NotNull(await store.GetJobAsync(id));
        }
    }

    [Fact]
    public async Task Two_instances_on_one_file_lease_concurrently_without_duplicates()
    {
        await using var first = Open();
        await using var second = Open();
        const int total = 600;
        for (var i = 0; i < total; i += 100)
        {
            await (i % 200 == 0 ? first : second).EnqueueAsync(Enumerable.Range(0, 100).Select(_ => TestJobs.New()).ToArray());
        }

        var leased = new ConcurrentBag<long>();
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            var store = w % 2 == 0 ? first : second;
            while (true)
            {
                var batch = await store.LeaseAsync(new LeaseRequest($"w{w}", ["default"], 7, TimeSpan.FromMinutes(1)));
                if (batch.Count == 0)
                {
                    return;
                }

                foreach (var job in batch)
                {
                    leased.Add(job.Id);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(total, leased.Count);
        Assert.Equal(total, leased.Distinct().Count());
        Assert.Equal(total, (await second.GetQueuesAsync()).Single()[JobState.Running]);
    }

    [Fact]
    public async Task A_write_from_one_instance_is_visible_to_reads_of_another()
    {
        await using var first = Open();
        await using var second = Open();

        var id = (await first.EnqueueAsync([TestJobs.New(key: "shared")]))[0].Id;

        Assert.Equal(id, (await second.FindByKeyAsync("shared"))?.Id);
        Assert.True((await second.EnqueueAsync([TestJobs.New(key: "shared")]))[0].Deduplicated);
    }

    [Fact]
    public async Task Writes_after_dispose_are_refused_clearly()
    {
        var store = Open();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.EnqueueAsync([TestJobs.New()]));
    }

    [Fact]
    public async Task UseSqlite_registers_the_store_for_both_interfaces_on_the_hosts_clock()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddBulwark(o => o.UseSqlite(_database.Path));
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IJobStore>();
        Assert.IsType<SqliteJobStore>(store);
        Assert.Same(store, provider.GetRequiredService<IJobQuery>());
        var id = (await store.EnqueueAsync([TestJobs.New()]))[0].Id;
        Assert.Equal(_time.GetUtcNow(), (await provider.GetRequiredService<IJobQuery>().GetJobAsync(id))!.CreatedAt);
    }

    private static void Checkpoint(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Scalar(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        Scalar(connection, "PRAGMA journal_mode = DELETE");
    }

    private static string? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
