using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>The throwaway test cluster, and a fresh schema per test class so classes run in parallel without meeting.</summary>
internal static class PostgresTestDatabase
{
    public const string Variable = "BULWARK_TEST_POSTGRES";

    /// <summary>The connection string; fails loudly (never skips) when the cluster was not started.</summary>
    public static string ConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(Variable);
            Assert.False(
                string.IsNullOrWhiteSpace(value),
                $"{Variable} is not set: the PostgreSQL tests need a database. Run ./test.sh, or scripts/postgres.sh start && eval \"$(scripts/postgres.sh env)\" before dotnet test.");
            return value!;
        }
    }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();

    /// <summary>
    /// Creates a database no other test uses and returns its connection string: for tests of real <c>bulwark</c>
    /// processes, which use the default schema of whatever database <c>--store</c> names.
    /// </summary>
    public static async Task<string> NewDatabaseAsync(string prefix)
    {
        var name = NewSchema(prefix);
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="NewDatabaseAsync"/>, disconnecting whoever is still on it.</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Drops a schema and everything in it.</summary>
    public static async Task DropSchemaAsync(string schema)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
