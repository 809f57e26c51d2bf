using Microsoft.Data.Sqlite;

namespace Bulwark.GameDay.Counting;

/// <summary>
/// Reads the store file directly, read-only, while no process holds it: SQLite's own <c>PRAGMA integrity_check</c>
/// and the ids still marked running (the jobs a power loss interrupted).
/// </summary>
internal static class StoreIntegrity
{
    public static async Task<(string Integrity, IReadOnlyList<long> Running)> CheckAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            await connection.OpenAsync(cancellationToken);
            await using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            var integrity = (string?)await check.ExecuteScalarAsync(cancellationToken) ?? "no answer";
            await using var running = connection.CreateCommand();
            running.CommandText = "SELECT id FROM jobs WHERE state = 'running' ORDER BY id";
            var ids = new List<long>();
            await using var reader = await running.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }

            return (integrity, ids);
        }
        catch (SqliteException ex)
        {
            return ($"could not check: {ex.Message}", []);
        }
    }
}
