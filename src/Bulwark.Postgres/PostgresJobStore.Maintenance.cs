using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    /// <inheritdoc />
    public Task<int> PromoteDueAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx, ct) =>
        {
            // SKIP LOCKED: two nodes promoting at once split the rows between them instead of promoting any twice.
            await using var promote = Command(c, tx, """
                WITH due AS (SELECT id FROM {s}.jobs WHERE state = 'scheduled' AND run_at <= @now ORDER BY run_at FOR UPDATE SKIP LOCKED)
                UPDATE {s}.jobs j SET state = 'ready', updated_at = @now FROM due WHERE j.id = due.id AND j.state = 'scheduled'
                RETURNING j.queue
                """);
            var queues = new List<string>();
            await using (var reader = await promote.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    queues.Add(reader.GetString(0));
                }
            }

            await NotifyAsync(c, tx, queues, ct);
            return queues.Count;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> ExpireAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx, ct) =>
        {
            var expired = JobRows.ErrorJson("attempt", "lease_owner", "started_at", FailureCategory.Expired, "'Its lifetime ended before it completed.'");
            await using var update = Command(c, tx, $$"""
                UPDATE {s}.jobs SET state = 'dead_letter', reason = 'Expired: its lifetime ended before it completed.',
                       errors = errors || {{expired}},
                       finished_at = @now, lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
                WHERE state IN {{LiveStates}} AND expires_at <= @now
                RETURNING id
                """);
            var ids = new List<long>();
            await using (var reader = await update.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetInt64(0));
                }
            }

            if (ids.Count > 0)
            {
                await ResolveDependentsAsync(c, tx, [.. ids], null, ct);
            }

            return ids.Count;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.BatchSize < 1)
        {
            throw new ArgumentException($"The purge batch size must be at least 1 (got {policy.BatchSize}).", nameof(policy));
        }

        var overrides = policy.Queues.Keys.ToArray();
        return WriteAsync(async (c, tx, ct) =>
        {
            var purged = 0;
            // Queues with their own retention first, then every other queue under the main policy; one budget for all.
            var scopes = overrides.Select(q => (Policy: policy.Queues[q], Filter: "queue = @queue", Queue: q))
                .Append((Policy: policy, Filter: "NOT (queue = ANY(@overrides))", Queue: ""));
            foreach (var scope in scopes)
            {
                if (purged >= policy.BatchSize)
                {
                    break;
                }

                await using var delete = Command(c, tx, $"""
                    DELETE FROM {"{s}"}.jobs WHERE id IN (
                        SELECT id FROM {"{s}"}.jobs
                        WHERE ((state = 'completed' AND finished_at < @now - @completed)
                           OR (state = 'failed' AND finished_at < @now - @failed)
                           OR (state = 'dead_letter' AND finished_at < @now - @dead_letter)
                           OR (state = 'cancelled' AND finished_at < @now - @cancelled))
                          AND {scope.Filter}
                        ORDER BY id
                        LIMIT @limit
                        FOR UPDATE SKIP LOCKED)
                    """);
                Add(delete, "completed", NpgsqlDbType.Interval, scope.Policy.Completed);
                Add(delete, "failed", NpgsqlDbType.Interval, scope.Policy.Failed);
                Add(delete, "dead_letter", NpgsqlDbType.Interval, scope.Policy.DeadLetter);
                Add(delete, "cancelled", NpgsqlDbType.Interval, scope.Policy.Cancelled);
                Add(delete, "limit", NpgsqlDbType.Integer, policy.BatchSize - purged);
                Add(delete, "queue", NpgsqlDbType.Text, scope.Queue);
                Add(delete, "overrides", NpgsqlDbType.Array | NpgsqlDbType.Text, overrides);
                purged += await delete.ExecuteNonQueryAsync(ct);
            }

            return purged;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx, ct) =>
        {
            await using var update = Command(c, tx, $$"""
                {{RetrySql}} WHERE id = @id AND state IN ('failed','dead_letter','cancelled') RETURNING queue
                """);
            Add(update, "id", NpgsqlDbType.Bigint, jobId);
            if (await ExecuteRetryAsync(update, ct) is [var queue])
            {
                await NotifyAsync(c, tx, [queue], ct);
                return AdminResult.Ok;
            }

            await using var exists = Command(c, tx, "SELECT 1 FROM {s}.jobs WHERE id = @id");
            Add(exists, "id", NpgsqlDbType.Bigint, jobId);
            return await exists.ExecuteScalarAsync(ct) is null ? AdminResult.NotFound : AdminResult.InvalidState;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var update = Command(c, tx, $$"""
                {{RetrySql}} WHERE queue = @queue AND state = 'dead_letter' RETURNING queue
                """);
            Add(update, "queue", NpgsqlDbType.Text, queue);
            var queues = await ExecuteRetryAsync(update, ct);
            await NotifyAsync(c, tx, queues, ct);
            return queues.Count;
        }, cancellationToken);
    }

    private const string RetrySql = """
        UPDATE {s}.jobs SET state = 'ready', attempt = 0, run_at = @now, reason = NULL, finished_at = NULL, cancel_requested = false,
               lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
        """;

    private static async Task<List<string>> ExecuteRetryAsync(NpgsqlCommand update, CancellationToken ct)
    {
        try
        {
            var queues = new List<string>();
            await using var reader = await update.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                queues.Add(reader.GetString(0));
            }

            return queues;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new JobValidationException("key", "Another live job holds this job's idempotency key; wait for it to finish (or cancel it) before retrying this one.");
        }
    }

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx, ct) =>
        {
            await using (var cancel = Command(c, tx, """
                UPDATE {s}.jobs SET state = 'cancelled', reason = 'Cancelled by a user.', finished_at = @now, updated_at = @now
                WHERE id = @id AND state IN ('pending','scheduled','ready')
                """))
            {
                Add(cancel, "id", NpgsqlDbType.Bigint, jobId);
                if (await cancel.ExecuteNonQueryAsync(ct) == 1)
                {
                    await ResolveDependentsAsync(c, tx, [jobId], null, ct);
                    return CancelResult.Cancelled;
                }
            }

            await using (var request = Command(c, tx, "UPDATE {s}.jobs SET cancel_requested = true, updated_at = @now WHERE id = @id AND state = 'running'"))
            {
                Add(request, "id", NpgsqlDbType.Bigint, jobId);
                if (await request.ExecuteNonQueryAsync(ct) == 1)
                {
                    return CancelResult.CancellationRequested;
                }
            }

            await using var exists = Command(c, tx, "SELECT 1 FROM {s}.jobs WHERE id = @id");
            Add(exists, "id", NpgsqlDbType.Bigint, jobId);
            return await exists.ExecuteScalarAsync(ct) is null ? CancelResult.NotFound : CancelResult.AlreadyFinished;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var upsert = Command(c, tx, """
                INSERT INTO {s}.queues (name, paused, updated_at) VALUES (@queue, @paused, @now)
                ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
                """);
            Add(upsert, "queue", NpgsqlDbType.Text, queue);
            Add(upsert, "paused", NpgsqlDbType.Boolean, paused);
            await upsert.ExecuteNonQueryAsync(ct);
            if (!paused)
            {
                await NotifyAsync(c, tx, [queue], ct);
            }

            return 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        if (state == JobState.Running)
        {
            throw new JobValidationException("state", "Running jobs cannot be deleted; cancel them first, then delete them once cancelled.");
        }

        var column = state.IsTerminal() ? "finished_at" : "created_at";
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var delete = Command(c, tx, $"DELETE FROM {{s}}.jobs WHERE queue = @queue AND state = @state AND {column} < @older RETURNING id");
            Add(delete, "queue", NpgsqlDbType.Text, queue);
            Add(delete, "state", NpgsqlDbType.Text, state.ToName());
            Add(delete, "older", NpgsqlDbType.TimestampTz, olderThan.ToUniversalTime());
            var ids = new List<long>();
            await using (var reader = await delete.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetInt64(0));
                }
            }

            if (ids.Count > 0 && !state.IsTerminal())
            {
                // A deleted job will never complete: its waiting dependents go to dead letter rather than wait forever.
                var deleted = ids.ToArray();
                await using var orphans = Command(c, tx, "SELECT id FROM {s}.jobs WHERE state = 'pending' AND depends_on && @ids ORDER BY id");
                Add(orphans, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, deleted);
                var children = new List<long>();
                await using (var reader = await orphans.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        children.Add(reader.GetInt64(0));
                    }
                }

                var dead = new List<long>();
                foreach (var child in children)
                {
                    if (await DeadLetterPendingAsync(c, tx, child, "A job it depends on was deleted.", ct))
                    {
                        dead.Add(child);
                    }
                }

                await ResolveDependentsAsync(c, tx, [.. dead], null, ct);
            }

            return ids.Count;
        }, cancellationToken);
    }
}
