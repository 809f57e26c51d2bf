using System.Globalization;
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
            var expired = JobRows.ErrorJson("m.attempt", "m.lease_owner", "m.started_at", FailureCategory.Expired, "'Its lifetime ended before it completed.'");
            await using var update = Command(c, tx, JobMoves.ToHistory(
                where: $"j.state IN {LiveStates} AND j.expires_at <= @now",
                set: new Dictionary<string, string>
                {
                    ["state"] = "'dead_letter'",
                    ["reason"] = "'Expired: its lifetime ended before it completed.'",
                    ["errors"] = "m.errors || " + expired,
                },
                returning: "id"));
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
                    DELETE FROM {"{s}"}.job_history WHERE id IN (
                        SELECT id FROM {"{s}"}.job_history
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
            await using (var read = Command(c, tx, $"SELECT state FROM {JobMoves.AllJobs} AS j WHERE id = @id"))
            {
                Add(read, "id", NpgsqlDbType.Bigint, jobId);
                switch (await read.ExecuteScalarAsync(ct))
                {
                    case null:
                        return AdminResult.NotFound;
                    case string state when state is not ("failed" or "dead_letter" or "cancelled"):
                        return AdminResult.InvalidState;
                }
            }

            var step = await RetryOneAsync(c, tx, jobId, ct);
            if (step.Conflict is not null)
            {
                throw step.Conflict;
            }

            if (!step.Retried)
            {
                // It left the retryable states between the read and the update (a concurrent retry took it).
                return AdminResult.InvalidState;
            }

            if (step.ReadyQueue is { } queue)
            {
                await NotifyAsync(c, tx, [queue], ct);
            }

            return AdminResult.Ok;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        return WriteAsync(async (c, tx, ct) =>
        {
            // Dead letters with no key and no dependencies cannot be refused: one statement retries them all, as before.
            var ready = new List<string>();
            await using (var plain = Command(c, tx, RetrySql("j.queue = @queue AND j.state = 'dead_letter' AND j.key IS NULL AND cardinality(j.depends_on) = 0")))
            {
                Add(plain, "queue", NpgsqlDbType.Text, queue);
                Add(plain, "state", NpgsqlDbType.Text, "ready");
                await using var reader = await plain.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    ready.Add(reader.GetString(0));
                }
            }

            var retried = ready.Count;

            // The rest one by one, oldest first (parents have lower ids than their dependents): a parent retried here is
            // live when its dependents are judged, so they wait for it. One that would be refused stays in dead letter.
            var rest = new List<long>();
            await using (var select = Command(c, tx, "SELECT id FROM {s}.job_history WHERE queue = @queue AND state = 'dead_letter' ORDER BY id"))
            {
                Add(select, "queue", NpgsqlDbType.Text, queue);
                await using var reader = await select.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rest.Add(reader.GetInt64(0));
                }
            }

            foreach (var id in rest)
            {
                var step = await RetryOneAsync(c, tx, id, ct);
                if (step.Retried)
                {
                    retried++;
                    if (step.ReadyQueue is { } readyQueue)
                    {
                        ready.Add(readyQueue);
                    }
                }
            }

            await NotifyAsync(c, tx, ready, ct);
            return retried;
        }, cancellationToken);
    }

    /// <summary>Moves the terminal jobs matching <paramref name="where"/> back to the live table, in state <c>@state</c>, under their ids.</summary>
    private static string RetrySql(string where) => JobMoves.ToLive(
        where,
        new Dictionary<string, string>
        {
            ["state"] = "@state",
            ["attempt"] = "0",
            ["run_at"] = "@now",
            ["reason"] = "NULL",
            ["cancel_requested"] = "false",
            ["result"] = "NULL",
            ["lease_owner"] = "NULL",
            ["lease_expires_at"] = "NULL",
        },
        "queue");

    /// <summary>
    /// Retries one terminal job: to Ready, or to Pending while a dependency is live; refused (the conflict, nothing changed)
    /// while a live job holds its key or a dependency ended unsuccessfully. A purged parent no longer holds it back. Returns
    /// whether it was retried, and its queue when it went to Ready (to notify).
    /// </summary>
    private async Task<RetryStep> RetryOneAsync(NpgsqlConnection c, NpgsqlTransaction tx, long jobId, CancellationToken ct)
    {
        string? key;
        long[] deps;
        await using (var read = Command(c, tx, "SELECT key, depends_on FROM {s}.job_history WHERE id = @id AND state IN ('failed','dead_letter','cancelled') FOR UPDATE"))
        {
            Add(read, "id", NpgsqlDbType.Bigint, jobId);
            await using var reader = await read.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return default;
            }

            key = reader.IsDBNull(0) ? null : reader.GetString(0);
            deps = reader.GetFieldValue<long[]>(1);
        }

        if (key is not null && await LiveHolderAsync(c, tx, key, ct) is { } holder)
        {
            return new RetryStep(false, JobConflictException.KeyHeld(jobId, holder, key), null);
        }

        var target = JobState.Ready;
        if (deps.Length > 0)
        {
            // FOR SHARE on the live rows: a parent finishing right now is waited for, and it cannot finish until this
            // commits, so a dependent sent to Pending here is seen by that parent's resolution. A parent that moved to
            // job_history while we waited drops out of the first read; the second, a later snapshot, reads it there.
            foreach (var table in LiveThenHistory)
            {
                await using var parents = Command(c, tx, $"SELECT id, state FROM {{s}}.{table} WHERE id = ANY(@ids) ORDER BY id FOR SHARE");
                Add(parents, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, deps);
                await using var reader = await parents.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var state = JobStates.Parse(reader.GetString(1));
                    if (state == JobState.Completed)
                    {
                        continue;
                    }

                    if (state.IsTerminal())
                    {
                        return new RetryStep(false, JobConflictException.DependencyNotCompleted(jobId, reader.GetInt64(0), state), null);
                    }

                    target = JobState.Pending;
                }
            }
        }

        await using var update = Command(c, tx, RetrySql("j.id = @id AND j.state IN ('failed','dead_letter','cancelled')"));
        Add(update, "id", NpgsqlDbType.Bigint, jobId);
        Add(update, "state", NpgsqlDbType.Text, target.ToName());
        await tx.SaveAsync("retry_one", ct);
        try
        {
            var queue = await update.ExecuteScalarAsync(ct) as string;
            await tx.ReleaseAsync("retry_one", ct);
            return new RetryStep(queue is not null, null, target == JobState.Ready ? queue : null);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && key is not null)
        {
            // An enqueue with the same key committed between the check and the update: name the job that holds it now.
            await tx.RollbackAsync("retry_one", ct);
            return new RetryStep(false, JobConflictException.KeyHeld(jobId, await LiveHolderAsync(c, tx, key, ct) ?? 0, key), null);
        }
    }

    private async Task<long?> LiveHolderAsync(NpgsqlConnection c, NpgsqlTransaction tx, string key, CancellationToken ct)
    {
        await using var holder = Command(c, tx, "SELECT id FROM {s}.jobs WHERE key = @key");
        Add(holder, "key", NpgsqlDbType.Text, key);
        return await holder.ExecuteScalarAsync(ct) as long?;
    }

    private static readonly string[] LiveThenHistory = ["jobs", "job_history"];

    /// <summary>What one retry did: retried (to Ready with its queue, or to Pending), refused with a conflict, or neither (not retryable).</summary>
    private readonly record struct RetryStep(bool Retried, JobConflictException? Conflict, string? ReadyQueue);

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(async (c, tx, ct) =>
        {
            await using (var cancel = Command(c, tx, JobMoves.ToHistory(
                where: "j.id = @id AND j.state IN ('pending','scheduled','ready')",
                set: new Dictionary<string, string> { ["state"] = "'cancelled'", ["reason"] = "'Cancelled by a user.'" },
                returning: "id")))
            {
                Add(cancel, "id", NpgsqlDbType.Bigint, jobId);
                if (await cancel.ExecuteScalarAsync(ct) is long)
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

            await using var exists = Command(c, tx, $"SELECT 1 FROM {JobMoves.AllJobs} AS j WHERE id = @id");
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
        var table = state.IsTerminal() ? "job_history" : "jobs";
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var delete = Command(c, tx, $"DELETE FROM {{s}}.{table} WHERE queue = @queue AND state = @state AND {column} < @older RETURNING id");
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
                await using var orphans = Command(c, tx, """
                    SELECT ch.id, (SELECT min(d.id) FROM unnest(ch.depends_on) AS d(id) WHERE d.id = ANY(@ids))
                    FROM {s}.jobs ch WHERE ch.state = 'pending' AND ch.depends_on && @ids ORDER BY ch.id
                    """);
                Add(orphans, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, deleted);
                var children = new List<(long Id, long Parent)>();
                await using (var reader = await orphans.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        children.Add((reader.GetInt64(0), reader.GetInt64(1)));
                    }
                }

                var dead = new List<long>();
                foreach (var (child, parent) in children)
                {
                    var message = string.Create(CultureInfo.InvariantCulture, $"Dependency {parent} was deleted; this job can never run.");
                    if (await DeadLetterPendingAsync(c, tx, child, message, ct))
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
