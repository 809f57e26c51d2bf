using Bulwark.Jobs;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    /// <inheritdoc />
    public Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var upsert = Command(c, tx, """
                INSERT INTO {s}.queues (name, paused, updated_at, max_attempts, backoff, timeout_ticks, retention_ticks)
                VALUES (@queue, false, @now, @max_attempts, @backoff, @timeout, @retention)
                ON CONFLICT (name) DO UPDATE SET max_attempts = excluded.max_attempts, backoff = excluded.backoff,
                    timeout_ticks = excluded.timeout_ticks, retention_ticks = excluded.retention_ticks, updated_at = excluded.updated_at
                """);
            Add(upsert, "queue", NpgsqlDbType.Text, queue);
            Add(upsert, "max_attempts", NpgsqlDbType.Integer, policy.MaxAttempts);
            Add(upsert, "backoff", NpgsqlDbType.Text, policy.Backoff?.ToString());
            Add(upsert, "timeout", NpgsqlDbType.Bigint, policy.Timeout?.Ticks);
            Add(upsert, "retention", NpgsqlDbType.Bigint, policy.Retention?.Ticks);
            await upsert.ExecuteNonQueryAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyDictionary<string, QueuePolicy>>(async (c, ct) =>
        {
            await using var select = Command(c, null, """
                SELECT name, max_attempts, backoff, timeout_ticks, retention_ticks FROM {s}.queues
                WHERE max_attempts IS NOT NULL OR backoff IS NOT NULL OR timeout_ticks IS NOT NULL OR retention_ticks IS NOT NULL
                ORDER BY name
                """);
            await using var r = await select.ExecuteReaderAsync(ct);
            var policies = new Dictionary<string, QueuePolicy>(StringComparer.Ordinal);
            while (await r.ReadAsync(ct))
            {
                policies[r.GetString(0)] = new QueuePolicy
                {
                    MaxAttempts = r.IsDBNull(1) ? null : r.GetInt32(1),
                    Backoff = r.IsDBNull(2) ? null : BackoffPolicy.Parse(r.GetString(2)),
                    Timeout = r.IsDBNull(3) ? null : TimeSpan.FromTicks(r.GetInt64(3)),
                    Retention = r.IsDBNull(4) ? null : TimeSpan.FromTicks(r.GetInt64(4)),
                };
            }

            return policies;
        }, cancellationToken);
}
