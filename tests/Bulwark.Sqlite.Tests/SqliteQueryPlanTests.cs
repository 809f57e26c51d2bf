using System.Globalization;
using Bulwark.StoreContract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// The store's hot statements are served by indexes, never by a scan of every job: leasing costs the same with a
/// thousand or ten million jobs waiting. Checked with <c>EXPLAIN QUERY PLAN</c> on a real file.
/// </summary>
public sealed class SqliteQueryPlanTests : IAsyncLifetime, IDisposable
{
    private readonly TempDatabase _database = new();
    private SqliteConnection _connection = null!;

    public async Task InitializeAsync()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using (var store = SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, Time = time }))
        {
            // Rows in several queues and states, so the planner sees a realistic mix.
            await store.EnqueueAsync(Enumerable.Range(0, 500).Select(i => TestJobs.New(queue: $"q{i % 5}", priority: i % 3, key: $"k{i}")).ToArray());
            await store.EnqueueAsync(Enumerable.Range(0, 200).Select(i => TestJobs.New(runAt: time.GetUtcNow().AddHours(1), expiresAt: time.GetUtcNow().AddDays(1))).ToArray());
            // And finished ones in job_history.
            var leased = await store.LeaseAsync(new Bulwark.Storage.LeaseRequest("w1", ["q0", "q1"], 100, TimeSpan.FromMinutes(1)));
            await store.FinishAsync(leased.Select(j => Bulwark.Storage.JobOutcome.Complete(j.Token)).ToArray());
        }

        _connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        await _connection.OpenAsync();
    }

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    public void Dispose() => _database.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("AND type NOT IN (@t0, @t1)")]
    public void Leasing_reads_the_partial_ready_index_in_order(string typeFilter)
    {
        var plan = Plan(string.Format(CultureInfo.InvariantCulture, SqliteSql.LeaseCandidates, typeFilter));

        AssertUses(plan, "jobs_ready");
        Assert.DoesNotContain(plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    /// <summary>Every statement of <see cref="SqliteSql"/> and the index that must serve it.</summary>
    /// <remarks>Several indexes, separated by ';', must all appear (a statement reading both tables uses one of each).</remarks>
    public static TheoryData<string, string> Statements => new()
    {
        { nameof(SqliteSql.PromoteDue), "jobs_scheduled" },
        { nameof(SqliteSql.FindLiveKey), "jobs_live_key" },
        { nameof(SqliteSql.FindNewestKey), "job_history_key" },
        { nameof(SqliteSql.JobById), "SEARCH jobs USING INTEGER PRIMARY KEY;SEARCH job_history USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.StateById), "SEARCH jobs USING INTEGER PRIMARY KEY;SEARCH job_history USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.ParentStates), "SEARCH d USING PRIMARY KEY;SEARCH l USING INTEGER PRIMARY KEY;SEARCH h USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.WaitingParents), "SEARCH d USING PRIMARY KEY;SEARCH p USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.LiveIdsBefore), "SEARCH jobs USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.HistoryIdsBefore), "SEARCH job_history USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.LiveQueueNames), "COVERING INDEX jobs_queue_state" },
        { nameof(SqliteSql.HistoryQueueNames), "COVERING INDEX job_history_queue_state" },
        { nameof(SqliteSql.IdsByQueueAndState), "COVERING INDEX jobs_queue_state" },
        { nameof(SqliteSql.HistoryIdsByQueueAndState), "COVERING INDEX job_history_queue_state" },
        { nameof(SqliteSql.JobsByIds), "SEARCH jobs USING INTEGER PRIMARY KEY;SEARCH job_history USING INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.ListByQueueAndState), "jobs_queue_state" },
        { nameof(SqliteSql.HistoryListByQueueAndState), "job_history_queue_state" },
        { nameof(SqliteSql.CountByQueueAndState), "COVERING INDEX jobs_queue_state;COVERING INDEX job_history_queue_state" },
        { nameof(SqliteSql.OldestReady), "jobs_ready" },
        { nameof(SqliteSql.Stalled), "jobs_running" },
        { nameof(SqliteSql.ExpiredLeases), "jobs_running" },
        { nameof(SqliteSql.RunningOfOwner), "jobs_running" },
        { nameof(SqliteSql.CountRunningOfOwner), "jobs_running" },
        { nameof(SqliteSql.RunningOfPredecessors), "jobs_running" },
        { nameof(SqliteSql.PurgeWorkers), "jobs_running" },
        { nameof(SqliteSql.CountRunningOfQueue), "COVERING INDEX jobs_queue_state" },
        { nameof(SqliteSql.DeadLettersOfQueue), "job_history_queue_state" },
        { nameof(SqliteSql.PurgeCandidates), "job_history_finished" },
        { nameof(SqliteSql.PurgeCandidatesOfQueue), "job_history_" },
        { nameof(SqliteSql.Expiring), "jobs_expires" },
        { nameof(SqliteSql.CompleteMany), "SEARCH j USING INTEGER PRIMARY KEY;job_dependencies_parent" },
        { nameof(SqliteSql.CompleteManyDelete), "SEARCH jobs USING INTEGER PRIMARY KEY;SEARCH j USING INTEGER PRIMARY KEY" },
    };

    [Fact]
    public void Every_store_statement_has_its_plan_checked()
    {
        var checkedNames = Statements.Select(row => (string)row[0]).ToHashSet();
        var all = typeof(SqliteSql).GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
            .Where(f => (f.IsLiteral || f.IsInitOnly) && f.FieldType == typeof(string))
            .Select(f => f.Name)
            // The two lease candidate templates take a type filter and have theories of their own below; the fence is a fragment of CompleteMany.
            .Except([nameof(SqliteSql.LeaseCandidates), nameof(SqliteSql.LeaseDueCandidates), nameof(SqliteSql.LeaseQueue), "CompleteManyFence"]);

        var missing = all.Where(name => !checkedNames.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"Add these statements to Statements with the index that serves them: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public void A_store_statement_uses_its_index(string statement, string index)
    {
        var sql = (string)typeof(SqliteSql).GetField(statement, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null)!;
        var plan = Plan(sql);

        foreach (var one in index.Split(';'))
        {
            AssertUses(plan, one);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("AND type NOT IN (@t0, @t1)")]
    public void Leasing_reads_due_scheduled_jobs_from_the_scheduled_index(string typeFilter)
    {
        AssertUses(Plan(string.Format(CultureInfo.InvariantCulture, SqliteSql.LeaseDueCandidates, typeFilter)), "jobs_scheduled");
    }

    [Theory]
    [InlineData("")]
    [InlineData("AND type NOT IN (@t0, @t1)")]
    public void The_lease_statement_reads_both_partial_indexes_and_updates_by_primary_key(string typeFilter)
    {
        var plan = Plan(string.Format(CultureInfo.InvariantCulture, SqliteSql.LeaseQueue, typeFilter));

        AssertUses(plan, "jobs_ready");
        AssertUses(plan, "jobs_scheduled");
        AssertUses(plan, "INTEGER PRIMARY KEY");
    }

    [Fact]
    public void Completing_a_batch_looks_up_each_job_and_its_dependents_by_index()
    {
        var plan = Plan(SqliteSql.CompleteMany);

        AssertUses(plan, "SEARCH j USING INTEGER PRIMARY KEY");
        AssertUses(plan, "SEARCH job_dependencies USING COVERING INDEX job_dependencies_parent");
        AssertUses(Plan(SqliteSql.CompleteManyDelete), "SEARCH jobs USING INTEGER PRIMARY KEY");
    }

    private static void AssertUses(List<string> plan, string index)
    {
        var text = string.Join(" | ", plan);
        Assert.True(plan.Any(line => line.Contains(index, StringComparison.Ordinal)), $"Expected the plan to use {index}: {text}");
        // "SCAN jobs" alone is a full table scan; a scan of a (partial or covering) index names the index.
        Assert.False(plan.Any(line => TableScans.Contains(line.Trim())), $"The plan scans every job: {text}");
    }

    /// <summary>Full scans of the job tables and dependency edges, by name or by the aliases the statements give them.</summary>
    private static readonly HashSet<string> TableScans =
        ["SCAN jobs", "SCAN job_history", "SCAN job_dependencies", "SCAN j", "SCAN l", "SCAN h", "SCAN p", "SCAN d"];

    private List<string> Plan(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var name in new[] { "@queue", "@now", "@limit", "@key", "@before", "@state", "@cutoff", "@t0", "@t1", "@q0", "@q1", "@owner", "@ids", "@tokens", "@name", "@host", "@id", "@expires", "@child" })
        {
            if (sql.Contains(name, StringComparison.Ordinal))
            {
                command.Parameters.AddWithValue(name, name switch
                {
                    "@queue" or "@owner" or "@key" or "@t0" or "@t1" or "@q0" or "@q1" or "@name" or "@host" => "x",
                    "@state" => "ready",
                    "@ids" => "[1,2,3]",
                    "@tokens" => "[[1,1],[2,1]]",
                    _ => 1,
                });
            }
        }

        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(3));
        }

        return lines;
    }
}
