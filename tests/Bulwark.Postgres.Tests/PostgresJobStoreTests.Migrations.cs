using Bulwark.StoreContract;
using Bulwark.Storage;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

// The schema is safe to roll: a newer schema is refused, a failed migration changes nothing, CHECK constraints refuse impossible rows.
public sealed partial class PostgresJobStoreTests
{
    // Creates a table, then fails: if the migration were not one transaction, the table would be left behind.
    private const string BrokenMigration = "CREATE TABLE {s}.half_done (x integer); SELECT 1 / 0;";

    [Fact]
    public async Task A_schema_newer_than_this_build_is_refused_naming_both_versions()
    {
        await OpenAsync();
        var future = PostgresMigrations.Latest + 3;
        await using var connection = await ConnectToSchemaAsync();
        await ExecuteAsync(connection, $"INSERT INTO {{s}}.schema_migrations (version, name) VALUES ({future}, 'from the future')");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => OpenAsync());

        Assert.Contains($"at version {future}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"knows ({PostgresMigrations.Latest})", error.Message, StringComparison.Ordinal);
        Assert.Equal(PostgresMigrations.All.Count + 1L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.schema_migrations"));
    }

    [Fact]
    public async Task A_migration_that_fails_part_way_leaves_the_schema_at_the_previous_version()
    {
        await using var connection = await ConnectToSchemaAsync();

        await Assert.ThrowsAsync<PostgresException>(() => PostgresMigrations.ApplyAsync(connection, _schema, [PostgresMigrations.All[0], (2, "broken", BrokenMigration)], default));

        Assert.Equal(1L, await ScalarAsync(connection, "SELECT max(version) FROM {s}.schema_migrations"));
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = @schema AND tablename = 'jobs'"));
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = @schema AND tablename = 'half_done'"));

        // The schema is whole at version 1, so the real migrations carry on from there.
        var store = await OpenAsync();
        await store.EnqueueAsync([TestJobs.New()]);

        var next = PostgresMigrations.Latest + 1;
        await Assert.ThrowsAsync<PostgresException>(() => PostgresMigrations.ApplyAsync(connection, _schema, [.. PostgresMigrations.All, (next, "broken", BrokenMigration)], default));

        Assert.Equal((long)PostgresMigrations.Latest, await ScalarAsync(connection, "SELECT max(version) FROM {s}.schema_migrations"));
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = @schema AND tablename = 'half_done'"));
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM {s}.jobs"));
    }

    [Theory]
    [InlineData("UPDATE {s}.job_history SET finished_at = NULL WHERE state = 'completed'")]
    [InlineData("UPDATE {s}.jobs SET state = 'completed' WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.jobs SET state = 'completed', finished_at = now() WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.job_history SET state = 'ready' WHERE state = 'completed'")]
    [InlineData("UPDATE {s}.job_history SET state = 'ready', finished_at = NULL WHERE state = 'completed'")]
    [InlineData("UPDATE {s}.jobs SET state = 'running' WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.jobs SET lease_owner = 'w9', lease_expires_at = now() WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.jobs SET state = 'sleeping' WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.jobs SET attempt = -1 WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.jobs SET progress = 101 WHERE state = 'ready'")]
    [InlineData("UPDATE {s}.jobs SET max_attempts = 0 WHERE state = 'ready'")]
    public async Task A_write_of_an_impossible_row_is_refused_by_a_check_constraint(string sql)
    {
        var store = await OpenAsync();
        await store.EnqueueAsync([TestJobs.New(), TestJobs.New()]);
        var leased = await store.LeaseAsync(new LeaseRequest("w1", ["default"], 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(FenceResult.Ok, (await store.FinishAsync([JobOutcome.Complete(leased[0].Token)]))[0]);
        await using var connection = await ConnectToSchemaAsync();
        const string rows = "SELECT string_agg(id || ':' || state || ':' || coalesce(finished_at::text, '-') || ':' || attempt || ':' || progress || ':' || coalesce(lease_owner, '-'), ';' ORDER BY id) FROM (SELECT * FROM {s}.jobs UNION ALL SELECT * FROM {s}.job_history) AS j";
        var before = await TextAsync(connection, rows);

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, sql));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal(before, await TextAsync(connection, rows));
    }

    private static async Task<NpgsqlConnection> ConnectToSchemaAsync()
    {
        var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private NpgsqlCommand SchemaCommand(NpgsqlConnection connection, string sql)
    {
        var command = new NpgsqlCommand(sql.Replace("{s}", PostgresMigrations.Quote(_schema), StringComparison.Ordinal), connection);
        command.Parameters.AddWithValue("schema", _schema);
        return command;
    }

    private async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = SchemaCommand(connection, sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = SchemaCommand(connection, sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<string?> TextAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = SchemaCommand(connection, sql);
        return await command.ExecuteScalarAsync() as string;
    }
}
