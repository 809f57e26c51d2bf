using System.Data.Common;
using System.Globalization;
using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    // The store re-validates (except the payload size, which the client enforces with its configured limit) so nothing refused is stored.
    private const int StorePayloadLimit = int.MaxValue;

    /// <inheritdoc />
    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateBatch(jobs, StorePayloadLimit);
        if (jobs.Count > 0 && jobs.All(IsPlain))
        {
            return EnqueuePlainAsync(jobs, cancellationToken);
        }

        return WriteAsync((c, tx, ct) => EnqueueCoreAsync(c, tx, jobs, ct), cancellationToken);
    }

    private async Task<IReadOnlyList<EnqueueResult>> EnqueuePlainAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken);
        return await _writer.WritePlainEnqueueAsync(jobs, (c, tx, ct) => InsertPlainJobsAsync(c, tx, jobs, ct), cancellationToken);
    }

    /// <summary>Inserts jobs without keys or dependencies and notifies their queues, in one round trip; ids in list order.</summary>
    private async Task<IReadOnlyList<EnqueueResult>> InsertPlainJobsAsync(NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<NewJob> jobs, CancellationToken ct)
    {
        var results = new EnqueueResult[jobs.Count];
        await InsertPlainAsync(c, tx, jobs, 0, jobs.Count, results, ct, notify: true);
        return results;
    }

    /// <summary>
    /// Enqueues inside the caller's own transaction (no group commit): the jobs exist if and only if the caller commits,
    /// so a business change and its jobs commit together. Workers are notified at that commit.
    /// </summary>
    public async Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(NpgsqlTransaction transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection
            ?? throw new ArgumentException("The transaction is already committed or rolled back; pass an open NpgsqlTransaction.", nameof(transaction));
        JobValidator.ValidateBatch(jobs, StorePayloadLimit);
        await EnsureOpenAsync(cancellationToken);
        return await EnqueueCoreAsync(connection, transaction, jobs, cancellationToken);
    }

    /// <summary>
    /// <see cref="EnqueueAsync(NpgsqlTransaction, IReadOnlyList{NewJob}, CancellationToken)"/> for a transaction handed over
    /// as a <see cref="DbTransaction"/> (EF Core's <c>GetDbTransaction()</c>, Dapper); anything but an Npgsql one is refused.
    /// </summary>
    Task<IReadOnlyList<EnqueueResult>> ITransactionalEnqueue.EnqueueAsync(DbTransaction transaction, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        EnqueueAsync(
            transaction as NpgsqlTransaction ?? throw new ArgumentException(
                $"The PostgreSQL store joins Npgsql transactions only, not {transaction?.GetType().Name ?? "null"}: open the transaction on a PostgreSQL connection to the store's database.", nameof(transaction)),
            jobs,
            cancellationToken);

    private async Task<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<NewJob> jobs, CancellationToken ct)
    {
        var external = jobs.SelectMany(j => j.DependsOn).Distinct().ToArray();
        if (external.Length > 0)
        {
            await using var check = Command(c, tx, $"SELECT id FROM {JobMoves.AllJobs} AS j WHERE id = ANY(@ids)");
            Add(check, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, external);
            var found = new HashSet<long>();
            await using (var reader = await check.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    found.Add(reader.GetInt64(0));
                }
            }

            var missing = external.Where(id => !found.Contains(id)).ToArray();
            if (missing.Length > 0)
            {
                throw new JobValidationException(
                    "depends_on",
                    $"depends_on names job(s) {string.Join(", ", missing.Select(id => id.ToString(CultureInfo.InvariantCulture)))} that do not exist; enqueue the parents first or remove them. Nothing was stored.",
                    JobValidationKind.UnknownReference);
            }
        }

        var results = new EnqueueResult[jobs.Count];
        var pending = new List<long>();
        var notify = new List<string>();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (IsPlain(job))
            {
                // A run of jobs without key or dependencies: one statement, ids in batch order.
                var end = i + 1;
                while (end < jobs.Count && IsPlain(jobs[end]))
                {
                    end++;
                }

                await InsertPlainAsync(c, tx, jobs, i, end, results, ct);
                for (var k = i; k < end; k++)
                {
                    notify.Add(jobs[k].Queue);
                }

                i = end - 1;
                continue;
            }

            var deps = job.DependsOn.Concat(job.DependsOnBatchIndexes.Select(index => results[index].Id)).Distinct().ToArray();
            results[i] = await InsertAsync(c, tx, job, deps, ct);
            if (!results[i].Deduplicated)
            {
                if (deps.Length > 0)
                {
                    pending.Add(results[i].Id);
                }
                else
                {
                    notify.Add(job.Queue);
                }
            }
        }

        if (pending.Count > 0)
        {
            // Parents may already be finished: settle the new children now, in the same transaction.
            await ResolveDependentsAsync(c, tx, parents: null, children: [.. pending], ct);
        }

        await NotifyAsync(c, tx, notify, ct);
        return results;
    }

    private static bool IsPlain(NewJob job) => job.Key is null && job.DependsOn.Count == 0 && job.DependsOnBatchIndexes.Count == 0;

    /// <summary>
    /// Inserts <c>jobs[start..end)</c> (none with a key or dependencies) in one statement. Identity values are drawn as the
    /// rows leave the sort by batch position, so the ascending ids map to the batch positions in order. With
    /// <paramref name="notify"/>, the jobs' queues are notified in the same round trip.
    /// </summary>
    private async Task InsertPlainAsync(
        NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<NewJob> jobs, int start, int end, EnqueueResult[] results, CancellationToken ct, bool notify = false)
    {
        const string Insert = """
            INSERT INTO {s}.jobs (queue, type, payload, priority, state, run_at, created_at, updated_at, max_attempts, timeout_ticks,
                                   backoff, expires_at, trace_parent)
            SELECT u.queue, u.type, u.payload, u.priority,
                   CASE WHEN coalesce(u.run_at, @now) <= @now THEN 'ready' ELSE 'scheduled' END,
                   coalesce(u.run_at, @now), @now, @now,
                   CASE WHEN u.own & 1 <> 0 THEN u.max_attempts ELSE coalesce(p.max_attempts, u.max_attempts) END,
                   CASE WHEN u.own & 2 <> 0 THEN u.timeout ELSE coalesce(p.timeout_ticks, u.timeout) END,
                   CASE WHEN u.own & 4 <> 0 THEN u.backoff ELSE coalesce(p.backoff, u.backoff) END,
                   u.expires_at, u.trace_parent
            FROM unnest(@queues, @types, @payloads, @priorities, @run_ats, @max_attempts, @timeouts, @backoffs, @expires_ats, @trace_parents, @owns)
                 WITH ORDINALITY AS u(queue, type, payload, priority, run_at, max_attempts, timeout, backoff, expires_at, trace_parent, own, ord)
            -- The queue's stored policy fills what a job did not set itself (own: JobSettings flags), in the same statement.
            LEFT JOIN {s}.queues p ON p.name = u.queue
            ORDER BY u.ord
            RETURNING id
            """;

        var n = end - start;
        var queues = new string[n];
        var types = new string[n];
        var payloads = new string[n];
        var priorities = new int[n];
        var runAts = new DateTimeOffset?[n];
        var maxAttempts = new int[n];
        var timeouts = new long[n];
        var backoffs = new string[n];
        var expiresAts = new DateTimeOffset?[n];
        var traceParents = new string?[n];
        var owns = new int[n];
        for (var k = 0; k < n; k++)
        {
            var job = jobs[start + k];
            queues[k] = job.Queue;
            types[k] = job.Type;
            payloads[k] = job.Payload;
            priorities[k] = job.Priority;
            runAts[k] = job.RunAt?.ToUniversalTime();
            maxAttempts[k] = job.MaxAttempts;
            timeouts[k] = job.Timeout.Ticks;
            backoffs[k] = job.Backoff.ToString();
            expiresAts[k] = job.ExpiresAt?.ToUniversalTime();
            traceParents[k] = job.TraceParent;
            owns[k] = (int)job.OwnSettings;
        }

        await using var batch = new NpgsqlBatch(c, tx);
        var insert = BatchCommand(Insert);
        Add(insert, "queues", NpgsqlDbType.Array | NpgsqlDbType.Text, queues);
        Add(insert, "types", NpgsqlDbType.Array | NpgsqlDbType.Text, types);
        Add(insert, "payloads", NpgsqlDbType.Array | NpgsqlDbType.Text, payloads);
        Add(insert, "priorities", NpgsqlDbType.Array | NpgsqlDbType.Integer, priorities);
        Add(insert, "run_ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, runAts);
        Add(insert, "max_attempts", NpgsqlDbType.Array | NpgsqlDbType.Integer, maxAttempts);
        Add(insert, "timeouts", NpgsqlDbType.Array | NpgsqlDbType.Bigint, timeouts);
        Add(insert, "backoffs", NpgsqlDbType.Array | NpgsqlDbType.Text, backoffs);
        Add(insert, "expires_ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, expiresAts);
        Add(insert, "trace_parents", NpgsqlDbType.Array | NpgsqlDbType.Text, traceParents);
        Add(insert, "owns", NpgsqlDbType.Array | NpgsqlDbType.Integer, owns);
        batch.BatchCommands.Add(insert);
        if (notify)
        {
            batch.BatchCommands.Add(NotifyCommand([.. queues.Distinct(StringComparer.Ordinal)]));
        }

        var ids = new long[n];
        var count = 0;
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                ids[count++] = reader.GetInt64(0);
            }
        }

        if (count != n)
        {
            throw new InvalidOperationException($"Inserting {n} jobs returned {count} ids; nothing was stored.");
        }

        Array.Sort(ids);
        for (var k = 0; k < n; k++)
        {
            results[start + k] = new EnqueueResult(ids[k], false);
        }
    }

    private async Task<EnqueueResult> InsertAsync(NpgsqlConnection c, NpgsqlTransaction tx, NewJob job, long[] deps, CancellationToken ct)
    {
        const string Insert = $$"""
            INSERT INTO {s}.jobs (queue, type, payload, priority, state, run_at, created_at, updated_at, max_attempts, timeout_ticks,
                                   backoff, key, depends_on, expires_at, trace_parent)
            VALUES (@queue, @type, @payload, @priority,
                    CASE WHEN cardinality(@deps) > 0 THEN 'pending' WHEN coalesce(@run_at, @now) <= @now THEN 'ready' ELSE 'scheduled' END,
                    coalesce(@run_at, @now), @now, @now,
                    -- The queue's stored policy fills what the job did not set itself (own: JobSettings flags).
                    CASE WHEN @own & 1 <> 0 THEN @max_attempts ELSE coalesce((SELECT max_attempts FROM {s}.queues WHERE name = @queue), @max_attempts) END,
                    CASE WHEN @own & 2 <> 0 THEN @timeout ELSE coalesce((SELECT timeout_ticks FROM {s}.queues WHERE name = @queue), @timeout) END,
                    CASE WHEN @own & 4 <> 0 THEN @backoff ELSE coalesce((SELECT backoff FROM {s}.queues WHERE name = @queue), @backoff) END,
                    @key, @deps, @expires_at, @trace_parent)
            ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING
            RETURNING id
            """;

        // A key conflict means a live job holds it; read that job. If it finished in between, the key is free: insert again.
        for (var round = 0; ; round++)
        {
            await using (var insert = Command(c, tx, Insert))
            {
                Add(insert, "queue", NpgsqlDbType.Text, job.Queue);
                Add(insert, "type", NpgsqlDbType.Text, job.Type);
                Add(insert, "payload", NpgsqlDbType.Text, job.Payload);
                Add(insert, "priority", NpgsqlDbType.Integer, job.Priority);
                Add(insert, "run_at", NpgsqlDbType.TimestampTz, Utc(job.RunAt));
                Add(insert, "max_attempts", NpgsqlDbType.Integer, job.MaxAttempts);
                Add(insert, "timeout", NpgsqlDbType.Bigint, job.Timeout.Ticks);
                Add(insert, "backoff", NpgsqlDbType.Text, job.Backoff.ToString());
                Add(insert, "key", NpgsqlDbType.Text, job.Key);
                Add(insert, "deps", NpgsqlDbType.Array | NpgsqlDbType.Bigint, deps);
                Add(insert, "expires_at", NpgsqlDbType.TimestampTz, Utc(job.ExpiresAt));
                Add(insert, "trace_parent", NpgsqlDbType.Text, job.TraceParent);
                Add(insert, "own", NpgsqlDbType.Integer, (int)job.OwnSettings);
                if (await insert.ExecuteScalarAsync(ct) is long id)
                {
                    return new EnqueueResult(id, false);
                }
            }

            await using var existing = Command(c, tx, "SELECT id FROM {s}.jobs WHERE key = @key");
            Add(existing, "key", NpgsqlDbType.Text, job.Key);
            if (await existing.ExecuteScalarAsync(ct) is long existingId)
            {
                return new EnqueueResult(existingId, true);
            }

            if (round >= 3)
            {
                throw new InvalidOperationException($"Could not store the job with key '{job.Key}': the key kept changing hands; retry the enqueue.");
            }
        }
    }

    /// <summary>
    /// Settles pending jobs whose parents reached a terminal state (or, for new jobs, that may already be settled): any parent
    /// ended otherwise than completed → dead letter (and onward to its own dependents); all parents completed → ready or
    /// scheduled. A parent that no longer exists (purged after completing) counts as met.
    /// </summary>
    private async Task ResolveDependentsAsync(NpgsqlConnection c, NpgsqlTransaction tx, long[]? parents, long[]? children, CancellationToken ct)
    {
        // A parent is in either table: live, or finished in job_history.
        var select = $"""
            SELECT ch.id,
                   (SELECT min(d.id) FROM unnest(ch.depends_on) AS d(id) JOIN {"{s}"}.job_history p ON p.id = d.id
                     WHERE p.state IN ('failed','dead_letter','cancelled')) AS broken,
                   (SELECT bool_and(coalesce(p.state, 'completed') = 'completed') FROM unnest(ch.depends_on) AS d(id) LEFT JOIN {JobMoves.AllJobs} p ON p.id = d.id) AS done,
                   (SELECT p.state FROM unnest(ch.depends_on) AS d(id) JOIN {"{s}"}.job_history p ON p.id = d.id
                     WHERE p.state IN ('failed','dead_letter','cancelled') ORDER BY p.id LIMIT 1) AS broken_state
            FROM {"{s}"}.jobs ch
            WHERE ch.state = 'pending' AND (ch.depends_on && @parents OR ch.id = ANY(@children))
            ORDER BY ch.id
            FOR UPDATE OF ch
            """;

        while ((parents?.Length ?? 0) + (children?.Length ?? 0) > 0)
        {
            var broken = new List<(long Id, long Parent, string State)>();
            var ready = new List<long>();
            await using (var command = Command(c, tx, select))
            {
                Add(command, "parents", NpgsqlDbType.Array | NpgsqlDbType.Bigint, parents ?? []);
                Add(command, "children", NpgsqlDbType.Array | NpgsqlDbType.Bigint, children ?? []);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    if (!reader.IsDBNull(1))
                    {
                        broken.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(3)));
                    }
                    else if (!reader.IsDBNull(2) && reader.GetBoolean(2))
                    {
                        ready.Add(reader.GetInt64(0));
                    }
                }
            }

            if (ready.Count > 0)
            {
                await using var promote = Command(c, tx, """
                    UPDATE {s}.jobs SET state = CASE WHEN run_at <= @now THEN 'ready' ELSE 'scheduled' END, updated_at = @now
                    WHERE id = ANY(@ids) AND state = 'pending'
                    RETURNING queue, state
                    """);
                Add(promote, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, ready.ToArray());
                var queues = new List<string>();
                await using (var reader = await promote.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        if (reader.GetString(1) == "ready")
                        {
                            queues.Add(reader.GetString(0));
                        }
                    }
                }

                await NotifyAsync(c, tx, queues, ct);
            }

            var deadLettered = new List<long>();
            foreach (var (id, parent, state) in broken)
            {
                // The same words as the other stores: which parent, and how it ended.
                var message = string.Create(CultureInfo.InvariantCulture, $"Dependency {parent} ended {state}; this job can never run.");
                if (await DeadLetterPendingAsync(c, tx, id, message, ct))
                {
                    deadLettered.Add(id);
                }
            }

            parents = [.. deadLettered];
            children = null;
        }
    }

    private async Task<bool> DeadLetterPendingAsync(NpgsqlConnection c, NpgsqlTransaction tx, long id, string message, CancellationToken ct)
    {
        await using var move = Command(c, tx, JobMoves.ToHistory(
            where: "j.id = @id AND j.state = 'pending'",
            set: new Dictionary<string, string>
            {
                ["state"] = "'dead_letter'",
                ["reason"] = "@message",
                ["errors"] = "m.errors || " + JobRows.ErrorJson("m.attempt", "NULL", "NULL", FailureCategory.Dependency, "@message::text"),
            },
            returning: "id"));
        Add(move, "id", NpgsqlDbType.Bigint, id);
        Add(move, "message", NpgsqlDbType.Text, message);
        return await move.ExecuteScalarAsync(ct) is long;
    }
}
