using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static Bulwark.Sqlite.Tests.SqliteCommands;

namespace Bulwark.Sqlite.Tests;

/// <summary>The schema is safe to roll: a failed migration changes nothing, and CHECK constraints refuse impossible rows.</summary>
public sealed class SqliteSchemaTests : IDisposable
{
    // Creates a table, then fails: if the migration were not one transaction, the table would be left behind.
    private const string Broken = "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);";

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task A_migration_that_fails_part_way_leaves_the_file_at_the_previous_version()
    {
        using (var connection = Connect())
        {
            Assert.Throws<SqliteException>(() => SqliteSchema.Migrate(connection, _database.Path, [SqliteSchema.Migrations[0], Broken]));

            Assert.Equal(1, SqliteSchema.ReadVersion(connection));
            Assert.Equal(1L, Count(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'jobs'"));
            Assert.Equal(0L, Count(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"));
        }

        // The file is whole at version 1, so the real migrations carry on from there.
        await using (var store = Open())
        {
            await store.EnqueueAsync([TestJobs.New()]);
        }

        using (var connection = Connect())
        {
            Assert.Throws<SqliteException>(() => SqliteSchema.Migrate(connection, _database.Path, [.. SqliteSchema.Migrations, Broken]));

            Assert.Equal(SqliteSchema.CurrentVersion, SqliteSchema.ReadVersion(connection));
            Assert.Equal(0L, Count(connection, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"));
            Assert.Equal(1L, Count(connection, "SELECT count(*) FROM jobs"));
        }
    }

    [Theory]
    [InlineData("UPDATE job_history SET finished_at = NULL WHERE state = 'completed'")]
    [InlineData("UPDATE jobs SET state = 'completed' WHERE state = 'ready'")]
    [InlineData("UPDATE job_history SET state = 'ready' WHERE state = 'completed'")]
    [InlineData("INSERT INTO job_history SELECT * FROM jobs WHERE state = 'ready'")]
    [InlineData("UPDATE jobs SET state = 'running' WHERE state = 'ready'")]
    [InlineData("UPDATE jobs SET state = 'sleeping' WHERE state = 'ready'")]
    [InlineData("UPDATE jobs SET attempt = -1 WHERE state = 'ready'")]
    [InlineData("UPDATE jobs SET progress = 101 WHERE state = 'ready'")]
    [InlineData("UPDATE jobs SET max_attempts = 0 WHERE state = 'ready'")]
    public async Task A_write_of_an_impossible_row_is_refused_by_a_check_constraint(string sql)
    {
        await using (var store = Open())
        {
            await store.EnqueueAsync([TestJobs.New(), TestJobs.New()]);
            var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 1, TimeSpan.FromSeconds(30)));
            Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(leased[0].Token)]))[0]);
        }

        using var connection = Connect();
        var before = Rows(connection);
        var error = Assert.Throws<SqliteException>(() => Execute(connection, sql));

        Assert.Contains("CHECK constraint failed", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Rows(connection));
    }

    private SqliteJobStore Open() => SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path, Time = _time });

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={_database.Path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static string Rows(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_concat(id || ':' || state || ':' || coalesce(finished_at, '-') || ':' || attempt || ':' || progress, ';') " +
            "FROM (SELECT * FROM jobs UNION ALL SELECT * FROM job_history ORDER BY id)";
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }

}
