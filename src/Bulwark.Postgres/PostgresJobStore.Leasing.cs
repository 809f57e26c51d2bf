using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    /// <summary>
    /// One statement per queue: take the first ready ids in lease order from the partial ready index and the first due
    /// scheduled ids (a due job is leasable without waiting for a promotion pass), both with SKIP LOCKED (rows another
    /// machine is claiming are passed over, never waited on), keep the best <c>@max</c> of them, then charge the attempt,
    /// raise the epoch and set the lease, judged by the store clock.
    /// The final guard is written <c>(…) IS TRUE</c> so that it cannot be an index condition: with statistics from when
    /// few jobs were ready (a backlog builds faster than ANALYZE runs), the planner otherwise joined the picked ids by
    /// scanning every ready job through <c>jobs_state_id_idx</c> (an index since dropped; measured: 237 ms per lease at 20,000 ready instead of
    /// 2.6 ms), so a store that fell behind fell further behind. The rows are locked by the CTEs, so the guard never
    /// filters in practice.
    /// </summary>
    internal static readonly string LeaseSql = $$"""
        WITH ready AS (
            SELECT id, priority, run_at FROM {s}.jobs
            WHERE state = 'ready' AND queue = @queue AND NOT (type = ANY(@excluded))
              AND NOT EXISTS (SELECT 1 FROM {s}.queues q WHERE q.name = @queue AND q.paused)
            ORDER BY priority DESC, run_at, id
            LIMIT @max
            FOR UPDATE SKIP LOCKED
        ), due AS (
            SELECT id, priority, run_at FROM {s}.jobs
            WHERE state = 'scheduled' AND queue = @queue AND run_at <= @now AND NOT (type = ANY(@excluded))
              AND NOT EXISTS (SELECT 1 FROM {s}.queues q WHERE q.name = @queue AND q.paused)
            ORDER BY priority DESC, run_at, id
            LIMIT @max
            FOR UPDATE SKIP LOCKED
        ), picked AS (
            SELECT id FROM (SELECT * FROM ready UNION ALL SELECT * FROM due) AS candidates
            ORDER BY priority DESC, run_at, id
            LIMIT @max
        )
        UPDATE {s}.jobs j
        SET state = 'running', attempt = j.attempt + 1, lease_epoch = j.lease_epoch + 1, lease_owner = @owner,
            lease_expires_at = @now + @lease, started_at = @now, updated_at = @now
        FROM picked
        WHERE j.id = picked.id AND (j.state IN ('ready','scheduled')) IS TRUE
        RETURNING {{JobRows.LeasedColumnsOf("j")}}
        """;

    /// <summary>
    /// <see cref="LeaseSql"/> for a queue with neither a rate nor a concurrency limit: a limited queue leases nothing here.
    /// Sent in the same round trip as the limits lookup, before the store knows whether the queue is limited; a limited
    /// queue is then leased again under its locked limits.
    /// </summary>
    internal static readonly string LeaseUnlimitedSql = LeaseSql.Replace(
        "WHERE q.name = @queue AND q.paused)",
        "WHERE q.name = @queue AND (q.paused OR q.rate_limit IS NOT NULL OR q.concurrency_limit IS NOT NULL))",
        StringComparison.Ordinal);

    /// <summary>
    /// The lease is planned for its actual arguments and table size every time. Auto-prepared, PostgreSQL switched it to a
    /// generic plan built while the table was nearly empty, and kept it until the next ANALYZE: a nested loop that
    /// sequentially scanned the whole table once per picked job (measured: 294 ms and 50,000 buffers for one lease of 49
    /// jobs in a 16,000-row table, so the 1,000 jobs/s latency run fell seconds behind). Planning costs well under a
    /// millisecond; the setting is put back in the same round trip so the rest of the writer's batch keeps its prepared plans.
    /// </summary>
    private const string CustomPlans = "SET LOCAL plan_cache_mode = force_custom_plan";

    private const string DefaultPlans = "RESET plan_cache_mode";

    /// <summary>Lease order within a queue: priority descending, then run_at, then id.</summary>
    private static readonly Comparison<LeasedJob> LeaseOrder = (a, b) =>
        b.Priority != a.Priority ? b.Priority.CompareTo(a.Priority)
        : a.RunAt != b.RunAt ? a.RunAt.CompareTo(b.RunAt)
        : a.Id.CompareTo(b.Id);

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.WorkerId))
        {
            throw new ArgumentException("A lease request needs the worker id that will own the leases.", nameof(request));
        }

        if (request.LeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The lease duration must be positive (got {request.LeaseDuration}).", nameof(request));
        }

        if (request.Max <= 0 || request.Queues.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<LeasedJob>>([]);
        }

        var queues = request.Queues.Distinct(StringComparer.Ordinal).ToArray();
        var excluded = request.ExcludedTypes.ToArray();
        return WriteAsync<IReadOnlyList<LeasedJob>>(async (c, tx, ct) =>
        {
            // One round trip for the common case: the limits lookup and the first queue's lease (unlimited queues only) together.
            var leased = new List<LeasedJob>();
            Dictionary<string, QueueLimit> limits;
            await using (var batch = new NpgsqlBatch(c, tx))
            {
                batch.BatchCommands.Add(BatchCommand(CustomPlans));
                batch.BatchCommands.Add(LimitedQueuesCommand(queues));
                batch.BatchCommands.Add(LeaseCommand(LeaseUnlimitedSql, queues[0], excluded, request.Max, request));
                batch.BatchCommands.Add(BatchCommand(DefaultPlans));
                // The reader passes over statements that return no rows (the two settings).
                await using var reader = await batch.ExecuteReaderAsync(ct);
                limits = await ReadLimitsAsync(reader, ct);
                await reader.NextResultAsync(ct);
                await ReadLeasedAsync(reader, leased, ct);
            }

            for (var i = 0; i < queues.Length; i++)
            {
                var queue = queues[i];
                var limit = limits.GetValueOrDefault(queue);
                if (i == 0 && limit is null)
                {
                    continue;
                }

                var remaining = request.Max - leased.Count;
                if (remaining <= 0)
                {
                    break;
                }

                if (limit is not null)
                {
                    remaining = await limit.AllowanceAsync(this, c, tx, queue, remaining, ct);
                    if (remaining <= 0)
                    {
                        continue;
                    }
                }

                var jobs = new List<LeasedJob>(remaining);
                await using (var lease = new NpgsqlBatch(c, tx))
                {
                    lease.BatchCommands.Add(BatchCommand(CustomPlans));
                    lease.BatchCommands.Add(LeaseCommand(LeaseSql, queue, excluded, remaining, request));
                    lease.BatchCommands.Add(BatchCommand(DefaultPlans));
                    await using var reader = await lease.ExecuteReaderAsync(ct);
                    await ReadLeasedAsync(reader, jobs, ct);
                }

                if (limit is not null)
                {
                    await limit.ChargeAsync(this, c, tx, queue, jobs.Count, ct);
                }

                leased.AddRange(jobs);
            }

            return leased;
        }, cancellationToken);
    }

    private NpgsqlBatchCommand LeaseCommand(string sql, string queue, string[] excluded, int max, LeaseRequest request)
    {
        var lease = BatchCommand(sql);
        Add(lease, "queue", NpgsqlDbType.Text, queue);
        Add(lease, "excluded", NpgsqlDbType.Array | NpgsqlDbType.Text, excluded);
        Add(lease, "max", NpgsqlDbType.Integer, max);
        Add(lease, "owner", NpgsqlDbType.Text, request.WorkerId);
        Add(lease, "lease", NpgsqlDbType.Interval, request.LeaseDuration);
        return lease;
    }

    /// <summary>Reads one queue's leased rows and puts them in lease order (UPDATE … RETURNING does not keep the CTE's order).</summary>
    private async Task ReadLeasedAsync(NpgsqlDataReader reader, List<LeasedJob> into, CancellationToken ct)
    {
        var start = into.Count;
        while (await reader.ReadAsync(ct))
        {
            into.Add(JobRows.ReadLeased(reader, _backoffs));
        }

        into.Sort(start, into.Count - start, Comparer<LeasedJob>.Create(LeaseOrder));
    }

    /// <inheritdoc />
    public Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default)
    {
        if (progress is < 0 or > 100)
        {
            throw new JobValidationException("progress", $"Progress must be between 0 and 100 (got {progress}).");
        }

        if (checkpoint is not null)
        {
            JobValidator.ValidatePayload(checkpoint, StorePayloadLimit);
        }

        return WriteAsync(async (c, tx, ct) =>
        {
            await using var update = Command(c, tx, """
                UPDATE {s}.jobs SET progress = coalesce(@progress, progress), checkpoint = coalesce(@checkpoint, checkpoint), updated_at = @now
                WHERE id = @id AND state = 'running' AND lease_epoch = @epoch
                """);
            Add(update, "id", NpgsqlDbType.Bigint, token.JobId);
            Add(update, "epoch", NpgsqlDbType.Bigint, token.Epoch);
            Add(update, "progress", NpgsqlDbType.Integer, progress);
            Add(update, "checkpoint", NpgsqlDbType.Text, checkpoint);
            return await update.ExecuteNonQueryAsync(ct) == 1 ? FenceResult.Ok : await RefusalAsync(c, tx, token, ct);
        }, cancellationToken);
    }

    /// <summary>Says why a fenced write matched no row: no job, a newer lease (stale token), or not running any more.</summary>
    private async Task<FenceResult> RefusalAsync(NpgsqlConnection c, NpgsqlTransaction tx, LeaseToken token, CancellationToken ct)
    {
        await using var select = Command(c, tx, $"SELECT state FROM {JobMoves.AllJobs} AS j WHERE id = @id");
        Add(select, "id", NpgsqlDbType.Bigint, token.JobId);
        await using var reader = await select.ExecuteReaderAsync(ct);
        return Refusal(await reader.ReadAsync(ct) ? reader.GetString(0) : null);
    }
}
