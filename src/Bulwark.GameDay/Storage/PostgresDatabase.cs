using Npgsql;

namespace Bulwark.GameDay.Storage;

/// <summary>A throwaway database on the PostgreSQL server under test: one per scenario, dropped afterwards.</summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _admin;

    private PostgresDatabase(string admin, string name, string connectionString)
    {
        _admin = admin;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>The connection string of the new database, for <c>--store</c>.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresDatabase> CreateAsync(string server, string scenario, CancellationToken cancellationToken)
    {
        var admin = ToKeywords(server);
        var name = $"gameday_{scenario.Replace('-', '_')}_{Guid.NewGuid():N}"[..40];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return new PostgresDatabase(admin, name, new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString);
    }

    /// <summary>The jobs still marked running, read directly while no Bulwark process is up.</summary>
    public async Task<(string Integrity, IReadOnlyList<long> Running)> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var count = new NpgsqlCommand("SELECT (SELECT count(*) FROM bulwark.jobs) + (SELECT count(*) FROM bulwark.job_history)", connection);
            var total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            await using var running = new NpgsqlCommand("SELECT id FROM bulwark.jobs WHERE state = 'running' ORDER BY id", connection);
            var ids = new List<long>();
            await using var reader = await running.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }

            return ($"ok (PostgreSQL answers; {total} jobs, constraints enforced by the database)", ids);
        }
        catch (NpgsqlException ex)
        {
            return ($"could not check: {ex.Message}", []);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(_admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // Left for the operator: the name says it is the game day's.
        }
    }

    /// <summary>A postgres:// URL as an Npgsql connection string; a connection string as it is.</summary>
    public static string ToKeywords(string server)
    {
        if (!server.Contains("://", StringComparison.Ordinal))
        {
            return server;
        }

        var uri = new Uri(server);
        var user = uri.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } db ? Uri.UnescapeDataString(db) : "postgres",
        };
        if (user[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user[0]);
        }

        if (user.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        return builder.ConnectionString;
    }
}
