using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static Bulwark.Sqlite.Tests.SqliteCommands;

namespace Bulwark.Sqlite.Tests;

/// <summary>A file written by an earlier Bulwark is upgraded in place, its jobs kept and served by the new indexes.</summary>
public sealed class SqliteSchemaUpgradeTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_version_2_file_is_upgraded_with_its_jobs_listed_and_reclaimed_through_the_new_indexes()
    {
        var now = Start.ToUnixTimeMilliseconds();
        using (var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False"))
        {
            connection.Open();
            Execute(connection, SqliteSchema.Migrations[0]);
            Execute(connection, SqliteSchema.Migrations[1]);
            Execute(connection, "PRAGMA user_version = 2");
            const string columns = "queue, type, payload, state, run_at, created_at, updated_at, max_attempts, timeout_ms, backoff";
            Execute(connection, $"INSERT INTO jobs ({columns}) VALUES ('a', 't', '{{}}', 'ready', {now}, {now}, {now}, 3, 1000, 'exponential(1s,1h,0)')");
            Execute(connection,
                $"INSERT INTO jobs ({columns}, attempt, lease_epoch, lease_owner, lease_expires_at, started_at) " +
                $"VALUES ('b', 't', '{{}}', 'running', {now}, {now}, {now}, 3, 1000, 'exponential(1s,1h,0)', 1, 1, 'w-old', {now - 1000}, {now - 5000})");
            Execute(connection,
                $"INSERT INTO jobs ({columns}, reason, finished_at) VALUES ('c', 't', '{{}}', 'failed', {now}, {now}, {now}, 3, 1000, 'exponential(1s,1h,0)', 'boom', {now})");
        }

        await using var store = SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, Time = _time });

        using (var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False"))
        {
            connection.Open();
            Assert.Equal(SqliteSchema.CurrentVersion, SqliteSchema.ReadVersion(connection));
            var indexes = new List<string>();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND name NOT LIKE 'sqlite_%'";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                indexes.Add(reader.GetString(0));
            }

            Assert.Contains("jobs_running", indexes);
            // Version 3 narrowed jobs_state; version 6 dropped it with the finished jobs it served (now in job_history).
            Assert.DoesNotContain("jobs_state", indexes);
            Assert.DoesNotContain("jobs_lease", indexes);
            Assert.DoesNotContain("jobs_owner", indexes);
        }

        Assert.Equal([2L], (await store.ListJobsAsync(new JobListQuery(State: JobState.Running))).Items.Select(j => j.Id));
        Assert.Equal([1L], (await store.ListJobsAsync(new JobListQuery(State: JobState.Ready))).Items.Select(j => j.Id));
        Assert.Equal([3L], (await store.ListJobsAsync(new JobListQuery(State: JobState.Failed))).Items.Select(j => j.Id));
        Assert.Equal([2L], (await store.ListJobsAsync(new JobListQuery(Queue: "b", State: JobState.Running))).Items.Select(j => j.Id));
        Assert.Empty((await store.ListJobsAsync(new JobListQuery(Queue: "a", State: JobState.Running))).Items);
        var queues = await store.GetQueuesAsync();
        Assert.Equal(1, queues.Single(q => q.Queue == "b").Counts[JobState.Running]);
        Assert.Equal(1, queues.Single(q => q.Queue == "a").Counts[JobState.Ready]);
        Assert.Equal(1, queues.Single(q => q.Queue == "c").Counts[JobState.Failed]);

        var reclaimed = await store.ReclaimAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([2L], reclaimed.Reclaimed);
        Assert.Equal([2L, 1L], (await store.ListJobsAsync(new JobListQuery(State: JobState.Ready))).Items.Select(j => j.Id));

        // Version 4 added the fleet's circuit breakers to the old file.
        await store.OpenCircuitAsync("t");
        Assert.Equal(["t"], (await store.ListCircuitsAsync()).Select(b => b.Type));

        // Version 5 added queue policies, applied to the old file's new jobs.
        await store.SetQueuePolicyAsync("default", new Bulwark.Jobs.QueuePolicy { MaxAttempts = 2 });
        var id = (await store.EnqueueAsync([Bulwark.Jobs.JobValidator.Validate(new Bulwark.Jobs.NewJob { Queue = "default", Type = "t", Payload = "{}" })]))[0].Id;
        Assert.Equal(2, (await store.GetJobAsync(id))!.MaxAttempts);
    }

    [Fact]
    public async Task Listing_a_hot_state_across_many_queues_pages_newest_first_without_gaps_or_repeats()
    {
        await using var store = SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, Time = _time });
        // Uneven queues, interleaved ids, and jobs of other states between them.
        var jobs = Enumerable.Range(0, 90).Select(i => new NewJob
        {
            Queue = $"q{i % 7}",
            Type = "t",
            Payload = "{}",
            RunAt = i % 5 == 0 ? Start.AddHours(1) : null,
        }).ToArray();
        var ids = (await store.EnqueueAsync(jobs)).Select(r => r.Id).ToArray();
        var expected = ids.Where((_, i) => i % 5 != 0).OrderDescending().ToList();

        var seen = new List<long>();
        long? cursor = null;
        do
        {
            var page = await store.ListJobsAsync(new JobListQuery(State: JobState.Ready, BeforeId: cursor, Limit: 8));
            Assert.All(page.Items, j => Assert.Equal(JobState.Ready, j.State));
            seen.AddRange(page.Items.Select(j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(expected, seen);
    }
}
