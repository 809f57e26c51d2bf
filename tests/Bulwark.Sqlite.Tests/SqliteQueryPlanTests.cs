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
    public static TheoryData<string, string> Statements => new()
    {
        { nameof(SqliteSql.PromoteDue), "jobs_scheduled" },
        { nameof(SqliteSql.FindLiveKey), "jobs_live_key" },
        { nameof(SqliteSql.FindNewestKey), "jobs_key" },
        { nameof(SqliteSql.ListByQueue), "jobs_queue" },
        { nameof(SqliteSql.ListByColdState), "jobs_state" },
        { nameof(SqliteSql.QueueNames), "COVERING INDEX jobs_queue" },
        { nameof(SqliteSql.IdsByQueueAndState), "COVERING INDEX jobs_queue_state" },
        { nameof(SqliteSql.JobsByIds), "INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.ListByQueueAndState), "jobs_queue_state" },
        { nameof(SqliteSql.ListAll), "INTEGER PRIMARY KEY" },
        { nameof(SqliteSql.CountByQueueAndState), "COVERING INDEX jobs_queue_state" },
        { nameof(SqliteSql.OldestReady), "jobs_ready" },
        { nameof(SqliteSql.Stalled), "jobs_running" },
        { nameof(SqliteSql.ExpiredLeases), "jobs_running" },
        { nameof(SqliteSql.RunningOfOwner), "jobs_running" },
        { nameof(SqliteSql.CountRunningOfOwner), "jobs_running" },
        { nameof(SqliteSql.RunningOfPredecessors), "jobs_running" },
        { nameof(SqliteSql.PurgeWorkers), "jobs_running" },
        { nameof(SqliteSql.CountRunningOfQueue), "COVERING INDEX jobs_queue_state" },
        { nameof(SqliteSql.DeadLettersOfQueue), "jobs_queue_state" },
        { nameof(SqliteSql.PurgeCandidates), "jobs_finished" },
        { nameof(SqliteSql.PurgeCandidatesOfQueue), "jobs_" },
        { nameof(SqliteSql.Expiring), "jobs_expires" },
        { nameof(SqliteSql.CompleteMany), "INTEGER PRIMARY KEY" },
    };

    [Fact]
    public void Every_store_statement_has_its_plan_checked()
    {
        var checkedNames = Statements.Select(row => (string)row[0]).ToHashSet();
        var all = typeof(SqliteSql).GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => f.Name)
            // The two lease candidate templates take a type filter and have theories of their own below.
            .Except([nameof(SqliteSql.LeaseCandidates), nameof(SqliteSql.LeaseDueCandidates), nameof(SqliteSql.LeaseQueue)]);

        var missing = all.Where(name => !checkedNames.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"Add these statements to Statements with the index that serves them: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Statements))]
    public void A_store_statement_uses_its_index(string statement, string index)
    {
        var sql = (string)typeof(SqliteSql).GetField(statement, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null)!;

        AssertUses(Plan(sql), index);
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

        AssertUses(plan, "SEARCH jobs USING INTEGER PRIMARY KEY");
        AssertUses(plan, "SEARCH job_dependencies USING COVERING INDEX job_dependencies_parent");
    }

    private static void AssertUses(List<string> plan, string index)
    {
        var text = string.Join(" | ", plan);
        Assert.True(plan.Any(line => line.Contains(index, StringComparison.Ordinal)), $"Expected the plan to use {index}: {text}");
        // "SCAN jobs" alone is a full table scan; a scan of a (partial or covering) index names the index.
        Assert.False(plan.Any(line => line.Trim() == "SCAN jobs"), $"The plan scans every job: {text}");
    }

    private List<string> Plan(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var name in new[] { "@queue", "@now", "@limit", "@key", "@before", "@state", "@cutoff", "@t0", "@t1", "@q0", "@q1", "@owner", "@ids", "@tokens", "@name", "@host", "@id", "@expires" })
        {
            if (sql.Contains(name, StringComparison.Ordinal))
            {
                command.Parameters.AddWithValue(name, name switch
                {
                    "@queue" or "@owner" or "@key" or "@t0" or "@t1" or "@q0" or "@q1" or "@name" or "@host" or "@id" => "x",
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
