using Bulwark.Jobs;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

public sealed partial class SqliteJobStore
{
    private const string PolicyColumns = "name, max_attempts, backoff, timeout_ms, retention_ms";
    private const string HasPolicy = "(max_attempts IS NOT NULL OR backoff IS NOT NULL OR timeout_ms IS NOT NULL OR retention_ms IS NOT NULL)";

    /// <inheritdoc />
    public Task SetQueuePolicyAsync(string queue, QueuePolicy policy, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        return WriteAsync(c => Execute(c,
            "INSERT INTO queues (name, paused, updated_at, max_attempts, backoff, timeout_ms, retention_ms) VALUES (@name, 0, @now, @max_attempts, @backoff, @timeout, @retention) " +
            "ON CONFLICT (name) DO UPDATE SET max_attempts = excluded.max_attempts, backoff = excluded.backoff, timeout_ms = excluded.timeout_ms, " +
            "retention_ms = excluded.retention_ms, updated_at = excluded.updated_at",
            ("@name", queue), ("@now", c.Now), ("@max_attempts", policy.MaxAttempts), ("@backoff", policy.Backoff?.ToString()),
            ("@timeout", Ms(policy.Timeout)), ("@retention", Ms(policy.Retention))), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueuePolicy>> GetQueuePoliciesAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyDictionary<string, QueuePolicy>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {PolicyColumns} FROM queues WHERE {HasPolicy} ORDER BY name";
            using var reader = command.ExecuteReader();
            var policies = new Dictionary<string, QueuePolicy>(StringComparer.Ordinal);
            while (reader.Read())
            {
                policies[reader.GetString(0)] = ReadPolicy(reader, BackoffPolicy.Parse);
            }

            return policies;
        }, cancellationToken);

    /// <summary>
    /// Gives each job the stored policy of its queue where the job did not set its own, inside the enqueue's transaction, so
    /// a policy set by any process applies to every job enqueued after it. One primary-key read per queue of the batch, and
    /// none when every job sets all three itself.
    /// </summary>
    private static void ApplyQueuePolicies(WriteContext c, NewJob[] jobs)
    {
        const JobSettings All = JobSettings.MaxAttempts | JobSettings.Timeout | JobSettings.Backoff;
        Dictionary<string, QueuePolicy?>? policies = null;
        for (var i = 0; i < jobs.Length; i++)
        {
            var job = jobs[i];
            if (job.OwnSettings == All)
            {
                continue;
            }

            policies ??= new Dictionary<string, QueuePolicy?>(StringComparer.Ordinal);
            if (!policies.TryGetValue(job.Queue, out var policy))
            {
                policies[job.Queue] = policy = Query(c, $"SELECT {PolicyColumns} FROM queues WHERE name = @name AND {HasPolicy}",
                    r => ReadPolicy(r, c.Backoff), ("@name", job.Queue)).FirstOrDefault();
            }

            jobs[i] = job.WithQueuePolicy(policy);
        }
    }

    private static long? Ms(TimeSpan? span) => span is { } s ? (long)s.TotalMilliseconds : null;

    private static QueuePolicy ReadPolicy(SqliteDataReader r, Func<string, BackoffPolicy> backoff) => new()
    {
        MaxAttempts = r.IsDBNull(1) ? null : r.GetInt32(1),
        Backoff = r.IsDBNull(2) ? null : backoff(r.GetString(2)),
        Timeout = r.IsDBNull(3) ? null : TimeSpan.FromMilliseconds(r.GetInt64(3)),
        Retention = r.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(r.GetInt64(4)),
    };
}
