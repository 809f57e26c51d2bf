using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.StoreContract;
using Bulwark.Storage;
using Bulwark.TestProcesses;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

// The live table holds only jobs that can still change; finished jobs live in job_history. Migration 5 moves old data.
public sealed partial class PostgresJobStoreTests
{
    private const string OldErrors =
        """[{"attempt":1,"workerId":"w-old","startedAt":"2026-01-01T00:00:00+00:00","endedAt":"2026-01-01T00:00:01+00:00","category":0,"message":"boom","stackTrace":"at X","exceptionType":"System.Exception"}]""";

    [Theory]
    [InlineData(3, 3)]
    [InlineData(4, 4)]
    [InlineData(4, 6)] // written at 4, moved to live and history tables by 5; then 7 changes job_history's indexes
    public async Task A_schema_with_jobs_in_every_state_migrates_to_live_and_history_tables_and_keeps_working(int writtenAt, int fromVersion)
    {
        await using var connection = await ConnectToSchemaAsync();
        await PostgresMigrations.ApplyAsync(connection, _schema, PostgresMigrations.All.Take(writtenAt).ToList(), default);

        // Rows as the old schema held them: one table, every state, keys, dependencies, errors, results, a live lease.
        var running = await InsertOldAsync(connection, "'running', attempt = 1, lease_epoch = 3, lease_owner = 'w-old', lease_expires_at = now() + interval '1 hour', progress = 40, checkpoint = '{\"at\":4}', started_at = now() - interval '1 minute'");
        var pending = await InsertOldAsync(connection, $"'pending', depends_on = '{{{running}}}'");
        var scheduled = await InsertOldAsync(connection, "'scheduled', run_at = now() + interval '1 day', key = 'k-sched'");
        var ready = await InsertOldAsync(connection, "'ready', priority = 5, key = 'k-shared', trace_parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'");
        var completed = await InsertOldAsync(connection, "'completed', attempt = 1, lease_epoch = 1, result = '{\"ok\":true}', key = 'k-shared', started_at = now() - interval '2 hours', finished_at = now() - interval '1 hour'");
        var failed = await InsertOldAsync(connection, $"'failed', attempt = 1, lease_epoch = 1, reason = 'boom', errors = '{OldErrors}', finished_at = now()");
        var dead = await InsertOldAsync(connection, $"'dead_letter', attempt = 3, lease_epoch = 4, lost_leases = 1, reason = 'Poison', errors = '{OldErrors}', key = 'k-dead', finished_at = now()");
        var cancelled = await InsertOldAsync(connection, "'cancelled', reason = 'Cancelled by a user.', finished_at = now()");
        long[] ids = [running, pending, scheduled, ready, completed, failed, dead, cancelled];
        await PostgresMigrations.ApplyAsync(connection, _schema, PostgresMigrations.All.Take(fromVersion).ToList(), default);
        var before = await ReadOldJobsAsync(connection, fromVersion >= 5 ? JobMoves.AllJobs : "{s}.jobs");

        var store = await OpenAsync();

        Assert.Equal(4L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.jobs"));
        Assert.Equal(4L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.job_history"));
        foreach (var id in ids)
        {
            Assert.Equal(Json(before[id]), Json(await store.GetJobAsync(id)));
        }

        var page = await store.ListJobsAsync(new JobListQuery(Limit: 100));
        Assert.Equal(ids.OrderDescending(), page.Items.Select(j => j.Id));
        Assert.Equal([completed], (await store.ListJobsAsync(new JobListQuery(State: JobState.Completed))).Items.Select(j => j.Id));
        Assert.Equal([completed], (await store.ListJobsAsync(new JobListQuery("default", JobState.Completed))).Items.Select(j => j.Id));
        Assert.Equal([dead], (await store.ListJobsAsync(new JobListQuery("default", JobState.DeadLetter))).Items.Select(j => j.Id));
        Assert.Equal([failed], (await store.ListJobsAsync(new JobListQuery(State: JobState.Failed))).Items.Select(j => j.Id));
        Assert.Equal(ready, (await store.FindByKeyAsync("k-shared"))!.Id);
        Assert.Equal(dead, (await store.FindByKeyAsync("k-dead"))!.Id);
        var counts = Assert.Single(await store.GetQueuesAsync()).Counts;
        Assert.All(JobStates.All, state => Assert.Equal(1L, counts[state]));

        // It still works: the old lease's token finishes its job and frees the dependent, the key of a live job
        // deduplicates, a dead letter retries under its id, new ids continue above the old ones.
        Assert.Equal(FenceResult.LeaseLost, (await store.FinishAsync([JobOutcome.Complete(new LeaseToken(running, 2))]))[0]);
        Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(new LeaseToken(running, 3), "\"done\"")]))[0]);
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(pending))!.State);
        Assert.Equal(new EnqueueResult(scheduled, true), Assert.Single(await store.EnqueueAsync([TestJobs.New(key: "k-sched")])));
        Assert.Equal(AdminResult.Ok, await store.RetryAsync(dead));
        Assert.Equal(JobState.Ready, (await store.GetJobAsync(dead))!.State);
        var fresh = Assert.Single(await store.EnqueueAsync([TestJobs.New()]));
        Assert.True(fresh.Id > ids.Max(), $"new id {fresh.Id} is not above {ids.Max()}");

        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 10, TimeSpan.FromMinutes(1)));
        Assert.Equal([ready, pending, dead, fresh.Id], leased.Select(j => j.Id));
        Assert.All(await store.FinishAsync(leased.Select(j => JobOutcome.Complete(j.Token)).ToArray()), r => Assert.Equal(FenceResult.Ok, r));
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.jobs"));
        Assert.Equal(8L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.job_history"));
        Assert.Equal(JobState.Completed, (await store.GetJobAsync(dead))!.State);
    }

    [Fact]
    public async Task A_finished_job_moves_to_history_and_a_retried_one_moves_back_under_its_id()
    {
        var store = await OpenAsync();
        await using var connection = await ConnectToSchemaAsync();
        var ids = (await store.EnqueueAsync([TestJobs.New(key: "one"), TestJobs.New(), TestJobs.New()])).Select(r => r.Id).ToArray();
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 3, TimeSpan.FromMinutes(1)));
        var error = new JobError(1, "w1", null, DateTimeOffset.UtcNow, FailureCategory.Permanent, "no");

        var results = await store.FinishAsync([
            JobOutcome.Complete(leased[0].Token, "1"),
            JobOutcome.Fail(leased[1].Token, error),
            JobOutcome.Retry(leased[2].Token, error with { Category = FailureCategory.Temporary }, TimeSpan.FromMinutes(5)),
        ]);

        Assert.All(results, r => Assert.Equal(FenceResult.Ok, r));
        Assert.Equal($"{ids[0]}:completed,{ids[1]}:failed", await TextAsync(connection, "SELECT string_agg(id || ':' || state, ',' ORDER BY id) FROM {s}.job_history"));
        Assert.Equal($"{ids[2]}:scheduled", await TextAsync(connection, "SELECT string_agg(id || ':' || state, ',' ORDER BY id) FROM {s}.jobs"));

        // A stale outcome moves nothing: the finished job is not deleted from history nor copied twice.
        Assert.Equal(FenceResult.NotRunning, (await store.FinishAsync([JobOutcome.Complete(leased[0].Token)]))[0]);
        Assert.Equal(2L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.job_history"));

        Assert.Equal(AdminResult.Ok, await store.RetryAsync(ids[1]));
        Assert.Equal($"{ids[1]}:ready,{ids[2]}:scheduled", await TextAsync(connection, "SELECT string_agg(id || ':' || state, ',' ORDER BY id) FROM {s}.jobs"));
        Assert.Equal([ids[2], ids[1], ids[0]], (await store.ListJobsAsync(new JobListQuery())).Items.Select(j => j.Id));
        Assert.Equal(ids[0], (await store.FindByKeyAsync("one"))!.Id);
        Assert.False((await store.EnqueueAsync([TestJobs.New(key: "one")]))[0].Deduplicated);
    }

    [Fact]
    public async Task Heartbeats_and_progress_writes_are_hot_updates()
    {
        // A backend reports its table statistics when it exits (else only after 10 s idle): each store is closed before
        // the counts are read, so they are complete at once.
        var setup = await OpenAsync();
        await setup.EnqueueAsync(Enumerable.Range(0, 10).Select(_ => TestJobs.New()).ToArray());
        var leased = await setup.LeaseAsync(new LeaseRequest("w1", ["default"], 10, TimeSpan.FromMinutes(1)));
        await setup.DisposeAsync();
        await using var connection = await ConnectToSchemaAsync();
        var (updates, hot) = await UpdateCountsAsync(connection, 10);
        var worker = new WorkerRegistration { Id = "w1", Name = "w1", Host = "h", ProcessId = 1, Queues = ["default"], Concurrency = 10, StartedAt = DateTimeOffset.UtcNow };

        var store = await OpenAsync();
        for (var beat = 0; beat < 2; beat++)
        {
            var result = await store.HeartbeatAsync(new WorkerHeartbeat(worker, leased.Select(j => j.Token).ToArray(), TimeSpan.FromMinutes(1)));
            Assert.Empty(result.Lost);
        }

        Assert.Equal(FenceResult.Ok, await store.SaveProgressAsync(leased[0].Token, 50, "{\"at\":1}"));
        await store.DisposeAsync();

        var (afterUpdates, afterHot) = await UpdateCountsAsync(connection, updates + 21);
        Assert.Equal(21, afterUpdates - updates);
        Assert.Equal(21, afterHot - hot);
    }

    [Fact]
    public async Task A_finish_never_scans_the_live_table_for_dependents()
    {
        // On a small live table the planner scans it whole for each finished job's dependents, and the writer's statements
        // are auto-prepared: the generic plan PostgreSQL then keeps was made while the table was small and went on
        // scanning as it grew (the 1,000 jobs/s latency run: finishes of 30–325 ms, pickup p99 in seconds; auto_explain
        // showed the sequential scan under the finish's EXISTS). The finish runs with sequential scans off.
        var setup = await OpenAsync();
        await setup.EnqueueAsync(Enumerable.Range(0, 8).Select(_ => TestJobs.New()).ToArray());
        var leased = await setup.LeaseAsync(new LeaseRequest("w1", ["default"], 8, TimeSpan.FromMinutes(1)));
        Assert.Equal(8, leased.Count);
        await setup.DisposeAsync();
        await using var connection = await ConnectToSchemaAsync();
        var before = await SequentialScansAsync(connection, 0);

        var store = await OpenAsync();
        foreach (var job in leased)
        {
            Assert.Equal(FenceResult.Ok, Assert.Single(await store.FinishAsync([JobOutcome.Complete(job.Token)])));
        }

        await store.DisposeAsync();

        // A closed backend's statistics are complete at once (the 8 deletes show they are in).
        Assert.Equal(before, await SequentialScansAsync(connection, leased.Count));
        Assert.Equal("false", await TextAsync(connection, "SELECT option_value FROM pg_options_to_table((SELECT reloptions FROM pg_class WHERE oid = '{s}.jobs'::regclass)) WHERE option_name = 'vacuum_truncate'"));
    }

    [Fact]
    public async Task An_unfiltered_listing_merges_both_primary_keys_instead_of_sorting()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Enumerable.Range(0, 2000).Select(_ => TestJobs.New()).ToArray());
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 1500, TimeSpan.FromMinutes(1)));
        await store.FinishAsync(leased.Select(j => JobOutcome.Complete(j.Token)).ToArray());
        await using var connection = await ConnectToSchemaAsync();
        await ExecuteAsync(connection, "ANALYZE {s}.jobs; ANALYZE {s}.job_history");

        await using var explain = SchemaCommand(connection, "EXPLAIN " + PostgresJobStore.ListJobsSql(new JobListQuery(BeforeId: 1800)));
        explain.Parameters.AddWithValue("before", NpgsqlTypes.NpgsqlDbType.Bigint, 1800L);
        explain.Parameters.AddWithValue("limit", NpgsqlTypes.NpgsqlDbType.Integer, 51);
        var text = await PlanAsync(explain);
        Assert.Contains("Merge Append", text, StringComparison.Ordinal);
        Assert.Contains("Index Scan Backward using jobs_pkey", text, StringComparison.Ordinal);
        Assert.Contains("Index Scan Backward using job_history_pkey", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", text.Replace("Sort Key", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_the_running_jobs_of_a_backlog_reads_the_running_index_even_with_a_generic_plan()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Enumerable.Range(0, 5000).Select(_ => TestJobs.New()).ToArray());
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 20, TimeSpan.FromMinutes(1)));
        await using var connection = await ConnectToSchemaAsync();
        await ExecuteAsync(connection, "ANALYZE {s}.jobs");

        // The store's statements are auto-prepared, and PostgreSQL may keep a generic plan: force one, as a busy store gets.
        await ExecuteAsync(connection, "SET plan_cache_mode = force_generic_plan");
        var query = new JobListQuery("default", JobState.Running, Limit: 1);
        await ExecuteAsync(connection, "PREPARE listing(text, integer) AS " + PostgresJobStore.ListJobsSql(query)
            .Replace("@queue", "$1", StringComparison.Ordinal).Replace("@limit", "$2", StringComparison.Ordinal));
        await using var explain = SchemaCommand(connection, "EXPLAIN (ANALYZE, COSTS OFF) EXECUTE listing('default', 2)");
        var text = await PlanAsync(explain);

        // The 4,980 ready rows above the running ones are never visited.
        Assert.Contains("jobs_running_owner_idx", text, StringComparison.Ordinal);
        Assert.DoesNotContain("jobs_pkey", text, StringComparison.Ordinal);
        var page = await store.ListJobsAsync(query);
        Assert.Equal(leased.Max(j => j.Id), Assert.Single(page.Items).Id);
    }

    [Fact]
    public async Task A_completion_writes_two_history_index_entries_and_every_listing_still_reads_an_index()
    {
        var store = await OpenAsync();
        await store.EnqueueAsync(Enumerable.Range(0, 3000).Select(i => TestJobs.New(queue: i % 10 == 0 ? "rare" : "default")).ToArray());
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default", "rare"], 3000, TimeSpan.FromMinutes(1)));
        var error = new JobError(1, "w1", null, DateTimeOffset.UtcNow, FailureCategory.Permanent, "no");
        await store.FinishAsync(leased.Select((j, i) => i % 100 == 7 ? JobOutcome.DeadLetter(j.Token, error, "poison") : JobOutcome.Complete(j.Token)).ToArray());
        await using var connection = await ConnectToSchemaAsync();
        await ExecuteAsync(connection, "ANALYZE {s}.job_history");

        // Entries per index: a completion is in the primary key and (queue, id) only; the partial indexes hold the 30
        // dead letters; the BRIN index holds no entry per row.
        Assert.Equal(
            "job_history_finished_brin,job_history_key_idx,job_history_pkey,job_history_queue_id_idx,job_history_unsuccessful_idx,job_history_unsuccessful_queue_idx",
            await TextAsync(connection, "SELECT string_agg(indexrelname, ',' ORDER BY indexrelname) FROM pg_stat_user_indexes WHERE schemaname = '" + _schema + "' AND relname = 'job_history'"));
        Assert.Equal(30L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.job_history WHERE state <> 'completed'"));

        await ExecuteAsync(connection, "SET plan_cache_mode = force_generic_plan");
        foreach (var (query, index) in new[]
        {
            (new JobListQuery("rare", JobState.Completed), "job_history_queue_id_idx"),
            (new JobListQuery("rare", JobState.DeadLetter), "job_history_unsuccessful_queue_idx"),
            (new JobListQuery(State: JobState.DeadLetter), "job_history_unsuccessful_idx"),
            (new JobListQuery(State: JobState.Completed), "job_history_pkey"),
        })
        {
            await ExecuteAsync(connection, "DEALLOCATE ALL");
            var sql = PostgresJobStore.ListJobsSql(query).Replace("@limit", "$1", StringComparison.Ordinal);
            sql = query.Queue is null ? sql : sql.Replace("@queue", "$2", StringComparison.Ordinal);
            await ExecuteAsync(connection, $"PREPARE listing({(query.Queue is null ? "integer" : "integer, text")}) AS {sql}");
            await using var explain = SchemaCommand(connection, $"EXPLAIN (COSTS OFF) EXECUTE listing(51{(query.Queue is null ? "" : ", 'rare'")})");
            var plan = await PlanAsync(explain);
            Assert.True(plan.Contains(index, StringComparison.Ordinal) && !plan.Contains("Seq Scan", StringComparison.Ordinal), $"{query}:\n{plan}");
        }

        var dead = await store.ListJobsAsync(new JobListQuery("rare", JobState.DeadLetter, Limit: 100));
        Assert.Equal(leased.Where((j, i) => i % 100 == 7 && j.Queue == "rare").Select(j => j.Id).OrderDescending(), dead.Items.Select(j => j.Id));
    }

    private static async Task<string> PlanAsync(NpgsqlCommand explain)
    {
        var plan = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(0));
        }

        return string.Join('\n', plan);
    }

    private readonly record struct JobsStatistics(long Updates, long Hot, long Deletes, long SequentialScans);

    /// <summary>
    /// The statistics of jobs once <paramref name="until"/> holds for them (a closed backend's numbers reach
    /// pg_stat_user_tables shortly after it exits).
    /// </summary>
    private async Task<JobsStatistics> JobsStatisticsAsync(NpgsqlConnection connection, Func<JobsStatistics, bool> until, string expected)
    {
        JobsStatistics counts = default;
        await Poll.UntilAsync(
            async () =>
            {
                await using var select = SchemaCommand(connection, "SELECT n_tup_upd, n_tup_hot_upd, n_tup_del, seq_scan FROM pg_stat_user_tables WHERE schemaname = @schema AND relname = 'jobs'");
                await using var reader = await select.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                counts = new JobsStatistics(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
                return until(counts);
            },
            TimeSpan.FromSeconds(30),
            () => $"jobs shows {counts}, expected {expected}");
        return counts;
    }

    private async Task<(long Updates, long Hot)> UpdateCountsAsync(NpgsqlConnection connection, long atLeast)
    {
        var counts = await JobsStatisticsAsync(connection, c => c.Updates >= atLeast, $"at least {atLeast} updates");
        return (counts.Updates, counts.Hot);
    }

    /// <summary>The sequential scans of jobs once at least <paramref name="deletes"/> deleted rows show (so the writer's numbers are in).</summary>
    private async Task<long> SequentialScansAsync(NpgsqlConnection connection, long deletes) =>
        (await JobsStatisticsAsync(connection, c => c.Deletes >= deletes, $"at least {deletes} deleted rows")).SequentialScans;

    private async Task<long> InsertOldAsync(NpgsqlConnection connection, string stateAndColumns)
    {
        // The old schema's columns; the state comes first, the rest are SET-style assignments applied by an update.
        var state = stateAndColumns.Split(',')[0].Trim();
        var id = await ScalarAsync(connection, """
            INSERT INTO {s}.jobs (queue, type, payload, state, run_at, created_at, updated_at, max_attempts, timeout_ticks, backoff)
            VALUES ('default', 'demo.noop', '{"n":1}', 'ready', now() - interval '1 second', now() - interval '1 day', now() - interval '1 hour', 3, 18000000000, 'exponential(00:00:01,01:00:00,0.2)')
            RETURNING id
            """);
        var assignments = stateAndColumns.Contains(',', StringComparison.Ordinal) ? ", " + stateAndColumns[(stateAndColumns.IndexOf(',', StringComparison.Ordinal) + 1)..] : "";
        await ExecuteAsync(connection, $"UPDATE {{s}}.jobs SET state = {state}{assignments} WHERE id = {id}");
        return id;
    }

    private async Task<Dictionary<long, JobSnapshot>> ReadOldJobsAsync(NpgsqlConnection connection, string source)
    {
        await using var select = SchemaCommand(connection, $"SELECT {JobRows.ColumnsOf("")} FROM {source} AS j");
        await using var reader = await select.ExecuteReaderAsync();
        var jobs = new Dictionary<long, JobSnapshot>();
        while (await reader.ReadAsync())
        {
            var job = JobRows.ReadJob(reader);
            jobs[job.Id] = job;
        }

        return jobs;
    }

    private static string Json(JobSnapshot? job) => JsonSerializer.Serialize(job);
}
