using Npgsql;

namespace Bulwark.Postgres.Tests;

/// <summary>The planner's view of the store's lease statement.</summary>
internal static class LeasePlan
{
    /// <summary>EXPLAIN of the store's lease statement for <paramref name="queue"/> in <paramref name="schema"/>, as one text.</summary>
    public static async Task<string> ExplainLeaseAsync(NpgsqlConnection connection, string schema, string queue, int max)
    {
        var sql = "EXPLAIN " + PostgresJobStore.LeaseSql.Replace("{s}", $"\"{schema}\"", StringComparison.Ordinal).Replace("@now", "now()", StringComparison.Ordinal);
        await using var explain = new NpgsqlCommand(sql, connection);
        explain.Parameters.AddWithValue("queue", queue);
        explain.Parameters.AddWithValue("excluded", Array.Empty<string>());
        explain.Parameters.AddWithValue("max", max);
        explain.Parameters.AddWithValue("owner", "w2");
        explain.Parameters.AddWithValue("lease", TimeSpan.FromSeconds(10));
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        return string.Join("\n", plan);
    }
}
