using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static Bulwark.Sqlite.Tests.SqliteCommands;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// The live and history tables (migration 6): live jobs stay in <c>jobs</c>, finished ones move to <c>job_history</c>
/// in the same transaction, ids stay one sequence, and a file from schema 3 or 5 is upgraded with every job intact.
/// </summary>
public sealed class SqliteHistoryTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    private SqliteJobStore Open() => SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, Time = _time });

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task A_file_at_an_older_version_with_jobs_in_every_state_reads_back_identically_after_the_upgrade(int version)
    {
        var now = Start.ToUnixTimeMilliseconds();
        using (var connection = Connect())
        {
            SqliteSchema.Migrate(connection, _database.Path, SqliteSchema.Migrations.Take(version).ToArray());
            Assert.Equal(version, SqliteSchema.ReadVersion(connection));
            var error = JobRow.ErrorJson(TestJobs.Error(1, Start.AddSeconds(-5)));
            const string columns = "queue, type, payload, priority, state, run_at, created_at, updated_at, max_attempts, timeout_ms, backoff, key, " +
                "attempt, lease_epoch, lease_owner, lease_expires_at, progress, checkpoint, result, errors, reason, started_at, finished_at";
            string Row(string queue, string state, string? key = null, long runAt = 0, int attempt = 0, int epoch = 0, string? owner = null,
                long? leaseExpires = null, int progress = 0, string? checkpoint = null, string? result = null, string errors = "[]",
                string? reason = null, long? started = null, long? finished = null) =>
                $"INSERT INTO jobs ({columns}) VALUES ('{queue}', 't', '{{\"q\":\"{queue}\"}}', 1, '{state}', {(runAt == 0 ? now : runAt)}, {now - 9000}, {now - 1000}, 3, 60000, " +
                $"'exponential(1s,1h,0)', {Sql(key)}, {attempt}, {epoch}, {Sql(owner)}, {Sql(leaseExpires)}, {progress}, {Sql(checkpoint)}, {Sql(result)}, " +
                $"'{errors}', {Sql(reason)}, {Sql(started)}, {Sql(finished)})";

            Execute(connection, Row("a", "ready", key: "k1"));                                                              // 1
            Execute(connection, Row("a", "scheduled", runAt: now + 3_600_000));                                            // 2
            Execute(connection, Row("b", "pending"));                                                                      // 3: waits on 4 and 5
            Execute(connection, Row("b", "running", attempt: 1, epoch: 1, owner: "w-old", leaseExpires: now + 60_000,
                progress: 40, checkpoint: "{\"step\":2}", started: now - 5000));                                           // 4
            Execute(connection, Row("a", "completed", key: "k1", attempt: 1, epoch: 1, result: "{\"ok\":1}", started: now - 8000, finished: now - 7000)); // 5
            Execute(connection, Row("b", "failed", key: "k-failed", attempt: 1, epoch: 1, errors: $"[{error}]", reason: "boom", started: now - 6000, finished: now - 5000)); // 6
            Execute(connection, Row("c", "dead_letter", errors: $"[{error}]", reason: "dependency 6 ended failed", finished: now - 5000)); // 7: depended on 6
            Execute(connection, Row("c", "cancelled", reason: "cancelled by a user", finished: now - 4000));             // 8
            Execute(connection, Row("c", "ready"));                                                                        // 9: deleted below
            Execute(connection, "INSERT INTO job_dependencies (job_id, parent_id) VALUES (3, 4), (3, 5), (7, 6)");
            // The largest id left before the upgrade: the sequence must not hand it out again.
            Execute(connection, "DELETE FROM jobs WHERE id = 9");
        }

        var before = RawRows("SELECT " + JobRow.Columns + " FROM jobs ORDER BY id");
        Assert.Equal(8, before.Count);

        await using var store = Open();

        using (var connection = Connect())
        {
            Assert.Equal(SqliteSchema.CurrentVersion, SqliteSchema.ReadVersion(connection));
            Assert.Equal(["jobs_expires", "jobs_live_key", "jobs_queue_state", "jobs_ready", "jobs_running", "jobs_scheduled"], Indexes(connection, "jobs"));
            Assert.Equal(["job_history_finished", "job_history_key", "job_history_queue_state"], Indexes(connection, "job_history"));
            // Moving a job out of jobs must not take its edges: job_dependencies has no cascading foreign key any more.
            Assert.Equal(0L, Count(connection, "SELECT count(*) FROM pragma_foreign_key_list('job_dependencies')"));
            Assert.Equal(3L, Count(connection, "SELECT count(*) FROM job_dependencies"));
        }

        // Every row is kept column for column, the live ones in jobs and the finished ones in job_history.
        Assert.Equal(before.Where(r => IsLive(r)).ToList(), RawRows("SELECT " + JobRow.Columns + " FROM jobs ORDER BY id"));
        Assert.Equal(before.Where(r => !IsLive(r)).ToList(), RawRows("SELECT " + JobRow.Columns + " FROM job_history ORDER BY id"));

        // Through the store: each job by id, every listing and the counts.
        var states = new[] { JobState.Ready, JobState.Scheduled, JobState.Pending, JobState.Running, JobState.Completed, JobState.Failed, JobState.DeadLetter, JobState.Cancelled };
        for (var id = 1; id <= 8; id++)
        {
            var job = await store.GetJobAsync(id);
            Assert.NotNull(job);
            Assert.Equal(states[id - 1], job.State);
        }

        Assert.Null(await store.GetJobAsync(9));
        Assert.Equal([4L, 5L], (await store.GetJobAsync(3))!.DependsOn);
        Assert.Equal([6L], (await store.GetJobAsync(7))!.DependsOn);
        Assert.Equal("{\"ok\":1}", (await store.GetJobAsync(5))!.Result);
        Assert.Equal("boom", Assert.Single((await store.GetJobAsync(6))!.Errors).Message);
        Assert.Equal("{\"step\":2}", (await store.GetJobAsync(4))!.Checkpoint);
        Assert.Equal(Start.AddMilliseconds(-7000), (await store.GetJobAsync(5))!.FinishedAt);

        Assert.Equal([8L, 7L, 6L, 5L, 4L, 3L, 2L, 1L], await Ids(store, new JobListQuery()));
        Assert.Equal([5L, 2L, 1L], await Ids(store, new JobListQuery(Queue: "a")));
        Assert.Equal([6L, 4L, 3L], await Ids(store, new JobListQuery(Queue: "b")));
        for (var id = 1; id <= 8; id++)
        {
            Assert.Equal([(long)id], await Ids(store, new JobListQuery(State: states[id - 1])));
        }

        Assert.Equal([7L], await Ids(store, new JobListQuery(Queue: "c", State: JobState.DeadLetter)));
        Assert.Equal([8L, 7L], await Ids(store, new JobListQuery(Queue: "c", BeforeId: 9, Limit: 5)));
        Assert.Equal([7L], await Ids(store, new JobListQuery(Queue: "c", BeforeId: 8, Limit: 5)));

        var queues = (await store.GetQueuesAsync()).ToDictionary(q => q.Queue);
        Assert.Equal(["a", "b", "c"], queues.Keys.Order());
        Assert.Equal((1, 1, 1), (queues["a"].Counts[JobState.Ready], queues["a"].Counts[JobState.Scheduled], queues["a"].Counts[JobState.Completed]));
        Assert.Equal((1, 1, 1), (queues["b"].Counts[JobState.Pending], queues["b"].Counts[JobState.Running], queues["b"].Counts[JobState.Failed]));
        Assert.Equal((1, 1, 0), (queues["c"].Counts[JobState.DeadLetter], queues["c"].Counts[JobState.Cancelled], queues["c"].Counts[JobState.Ready]));

        // Keys: the live holder first, else the newest finished job with the key.
        Assert.Equal(1, (await store.FindByKeyAsync("k1"))!.Id);
        Assert.Equal(6, (await store.FindByKeyAsync("k-failed"))!.Id);
        Assert.Equal(new EnqueueResult(1, Deduplicated: true), (await store.EnqueueAsync([TestJobs.New("a", key: "k1")]))[0]);

        // The old running job completes under its epoch; its dependent, whose other parent completed before the upgrade, is released.
        Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(new LeaseToken(4, 1))]))[0]);
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(3))!.State);

        // Leasing, completing and retrying go on; a new job's id is above every id ever handed out.
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["a"], 5, TimeSpan.FromSeconds(30)));
        Assert.Equal([1L], leased.Select(j => j.Token.JobId));
        Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(leased[0].Token, "{\"done\":true}")]))[0]);
        Assert.Equal(AdminResult.Ok, await store.RetryAsync(6));
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(6))!.State);
        Assert.Equal(10L, (await store.EnqueueAsync([TestJobs.New("a")]))[0].Id);
        Assert.Equal([3L, 6L, 10L], (await store.LeaseAsync(new LeaseRequest("w1", ["a", "b"], 10, TimeSpan.FromSeconds(30)))).Select(j => j.Token.JobId).Order());
    }

    [Fact]
    public async Task Ids_stay_one_sequence_when_the_newest_job_moves_to_history_and_is_purged()
    {
        long newest;
        await using (var store = Open())
        {
            await store.EnqueueAsync([TestJobs.New(), TestJobs.New()]);
            var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 2, TimeSpan.FromSeconds(30)));
            newest = leased.Max(j => j.Token.JobId);
            Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(leased.Single(j => j.Token.JobId == newest).Token)]))[0]);
        }

        using (var connection = Connect())
        {
            Assert.Equal(newest - 1, Count(connection, "SELECT max(id) FROM jobs"));
            Assert.Equal(newest, Count(connection, "SELECT id FROM job_history"));
        }

        await using (var store = Open())
        {
            Assert.Equal(newest + 1, (await store.EnqueueAsync([TestJobs.New()]))[0].Id);

            _time.Advance(TimeSpan.FromDays(2));
            Assert.Equal(1, await store.PurgeAsync(RetentionPolicy.Default));
            Assert.Null(await store.GetJobAsync(newest));
        }

        await using (var store = Open())
        {
            Assert.Equal(newest + 2, (await store.EnqueueAsync([TestJobs.New()]))[0].Id);
        }

        using (var connection = Connect())
        {
            Assert.Equal(0L, Count(connection, "SELECT count(*) FROM jobs j JOIN job_history h ON h.id = j.id"));
        }
    }

    [Fact]
    public async Task A_finished_job_keeps_its_edges_in_history_and_purging_it_removes_them()
    {
        await using var store = Open();
        var parent = (await store.EnqueueAsync([TestJobs.New()]))[0].Id;
        var child = (await store.EnqueueAsync([TestJobs.New(dependsOn: [parent])]))[0].Id;

        foreach (var _ in new[] { parent, child })
        {
            var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 1, TimeSpan.FromSeconds(30)));
            Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(Assert.Single(leased).Token)]))[0]);
        }

        var finished = await store.GetJobAsync(child);
        Assert.Equal(JobState.Completed, finished!.State);
        Assert.Equal([parent], finished.DependsOn);
        using (var connection = Connect())
        {
            Assert.Equal(0L, Count(connection, "SELECT count(*) FROM jobs"));
            Assert.Equal(2L, Count(connection, "SELECT count(*) FROM job_history"));
        }

        _time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(2, await store.PurgeAsync(RetentionPolicy.Default));

        using (var connection = Connect())
        {
            Assert.Equal(0L, Count(connection, "SELECT count(*) FROM job_dependencies"));
        }
    }

    [Fact]
    public async Task A_job_dead_on_arrival_goes_straight_to_history_and_deleting_a_waiting_job_removes_its_edges()
    {
        await using var store = Open();
        var parent = (await store.EnqueueAsync([TestJobs.New()]))[0].Id;
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Fail(leased[0].Token, TestJobs.Error(1, _time.GetUtcNow()))]))[0]);
        var live = (await store.EnqueueAsync([TestJobs.New(queue: "other")]))[0].Id;

        var dead = (await store.EnqueueAsync([TestJobs.New(dependsOn: [parent])]))[0].Id;
        var waiting = (await store.EnqueueAsync([TestJobs.New(queue: "other", dependsOn: [live])]))[0].Id;

        Assert.Equal(JobState.DeadLetter, (await store.GetJobAsync(dead))!.State);
        Assert.Equal([parent], (await store.GetJobAsync(dead))!.DependsOn);
        Assert.Equal([parent, dead], RawRows("SELECT id FROM job_history ORDER BY id").Select(r => (long)r[0]!));
        Assert.Equal([live, waiting], RawRows("SELECT id FROM jobs ORDER BY id").Select(r => (long)r[0]!));

        Assert.Equal(1, await store.DeleteJobsAsync("other", JobState.Pending, _time.GetUtcNow().AddSeconds(1)));

        Assert.Equal([dead], RawRows("SELECT job_id FROM job_dependencies").Select(r => (long)r[0]!));
    }

    [Fact]
    public async Task A_batch_completion_with_a_stale_token_moves_only_the_jobs_whose_lease_holds()
    {
        await using var store = Open();
        await store.EnqueueAsync([TestJobs.New(), TestJobs.New(), TestJobs.New()]);
        var first = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 3, TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(3, (await store.ReclaimAsync(TimeSpan.FromMinutes(5))).Reclaimed.Count);
        var second = (await store.LeaseAsync(new LeaseRequest("w2", ["default"], 3, TimeSpan.FromSeconds(10)))).OrderBy(j => j.Token.JobId).ToArray();
        var stale = first.Single(j => j.Token.JobId == second[0].Token.JobId).Token;

        // Plain completions of distinct jobs take the set-wise path: the first token is the lease before the reclaim.
        var results = await store.FinishAsync([JobOutcome.Complete(stale), JobOutcome.Complete(second[1].Token), JobOutcome.Complete(second[2].Token)]);

        Assert.Equal([FenceResult.LeaseLost, FenceResult.Ok, FenceResult.Ok], results);
        Assert.Equal(JobState.Running, (await store.GetJobAsync(stale.JobId))!.State);
        Assert.Equal([second[1].Token.JobId, second[2].Token.JobId], RawRows("SELECT id FROM job_history ORDER BY id").Select(r => (long)r[0]!));
        Assert.Equal([stale.JobId], RawRows("SELECT id FROM jobs").Select(r => (long)r[0]!));

        // The current lease of that job still completes it.
        Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(second[0].Token)]))[0]);
        Assert.Equal(JobState.Completed, (await store.GetJobAsync(stale.JobId))!.State);
    }

    private static bool IsLive(object?[] row) => (string)row[5]! is "pending" or "scheduled" or "ready" or "running";

    private static async Task<List<long>> Ids(SqliteJobStore store, JobListQuery query) =>
        (await store.ListJobsAsync(query)).Items.Select(j => j.Id).ToList();

    private List<object?[]> RawRows(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add(row);
        }

        return rows;
    }

    private static List<string> Indexes(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = @table AND name NOT LIKE 'sqlite_%' ORDER BY name";
        command.Parameters.AddWithValue("@table", table);
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static string Sql(string? value) => value is null ? "NULL" : $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    private static string Sql(long? value) => value is null ? "NULL" : value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

}
