using Bulwark.Jobs;
using Bulwark.Scheduling;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore : IRecurringJobStore, IQueueLimitStore
{
    private const string RecurringColumns =
        "name, cron, time_zone, queue, type, payload, priority, max_attempts, timeout_ticks, backoff, misfire, next_tick, last_tick, last_job_id";

    /// <inheritdoc />
    public Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        return WriteAsync(async (c, tx, ct) =>
        {
            // The next tick survives a re-declaration (every process declares its code-defined jobs at start-up) unless the schedule changed.
            await using var upsert = Command(c, tx, $"""
                INSERT INTO {"{s}"}.recurring_jobs ({RecurringColumns}, updated_at)
                VALUES (@name, @cron, @tz, @queue, @type, @payload, @priority, @max_attempts, @timeout, @backoff, @misfire, @next_tick, NULL, NULL, @now)
                ON CONFLICT (name) DO UPDATE SET
                    next_tick = CASE WHEN recurring_jobs.cron = excluded.cron AND recurring_jobs.time_zone = excluded.time_zone
                                     THEN recurring_jobs.next_tick ELSE excluded.next_tick END,
                    cron = excluded.cron, time_zone = excluded.time_zone, queue = excluded.queue, type = excluded.type,
                    payload = excluded.payload, priority = excluded.priority, max_attempts = excluded.max_attempts,
                    timeout_ticks = excluded.timeout_ticks, backoff = excluded.backoff, misfire = excluded.misfire, updated_at = excluded.updated_at
                """);
            Add(upsert, "name", NpgsqlDbType.Text, job.Name);
            Add(upsert, "cron", NpgsqlDbType.Text, job.Cron);
            Add(upsert, "tz", NpgsqlDbType.Text, job.TimeZone);
            Add(upsert, "queue", NpgsqlDbType.Text, job.Queue);
            Add(upsert, "type", NpgsqlDbType.Text, job.Type);
            Add(upsert, "payload", NpgsqlDbType.Text, job.Payload);
            Add(upsert, "priority", NpgsqlDbType.Integer, job.Priority);
            Add(upsert, "max_attempts", NpgsqlDbType.Integer, job.MaxAttempts);
            Add(upsert, "timeout", NpgsqlDbType.Bigint, job.Timeout.Ticks);
            Add(upsert, "backoff", NpgsqlDbType.Text, job.Backoff.ToString());
            Add(upsert, "misfire", NpgsqlDbType.Text, job.Misfire == MisfirePolicy.RunOnce ? "run_once" : "skip");
            Add(upsert, "next_tick", NpgsqlDbType.TimestampTz, Utc(job.NextTick));
            await upsert.ExecuteNonQueryAsync(ct);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default)
    {
        RecurringJob.ValidateName(name);
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var delete = Command(c, tx, "DELETE FROM {s}.recurring_jobs WHERE name = @name");
            Add(delete, "name", NpgsqlDbType.Text, name);
            return await delete.ExecuteNonQueryAsync(ct) == 1;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<RecurringJob>>(async (c, ct) =>
        {
            await using var select = Command(c, null, $"SELECT {RecurringColumns} FROM {"{s}"}.recurring_jobs ORDER BY name");
            await using var r = await select.ExecuteReaderAsync(ct);
            var list = new List<RecurringJob>();
            while (await r.ReadAsync(ct))
            {
                list.Add(new RecurringJob
                {
                    Name = r.GetString(0),
                    Cron = r.GetString(1),
                    TimeZone = r.GetString(2),
                    Queue = r.GetString(3),
                    Type = r.GetString(4),
                    Payload = r.GetString(5),
                    Priority = r.GetInt32(6),
                    MaxAttempts = r.GetInt32(7),
                    Timeout = TimeSpan.FromTicks(r.GetInt64(8)),
                    Backoff = BackoffPolicy.Parse(r.GetString(9)),
                    Misfire = r.GetString(10) == "run_once" ? MisfirePolicy.RunOnce : MisfirePolicy.Skip,
                    NextTick = r.GetFieldValue<DateTimeOffset>(11),
                    LastTick = r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12),
                    LastJobId = r.IsDBNull(13) ? null : r.GetInt64(13),
                });
            }

            return list;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tick);
        var job = tick.Job is null ? null : JobValidator.Validate(tick.Job);
        return WriteAsync(async (c, tx, ct) =>
        {
            // The guarded update is the claim: a concurrent claimer blocks on the row, then finds next_tick moved and changes nothing.
            await using var claim = Command(c, tx, """
                UPDATE {s}.recurring_jobs SET next_tick = @next, last_tick = @tick, updated_at = @now
                WHERE name = @name AND next_tick = @expected
                """);
            Add(claim, "next", NpgsqlDbType.TimestampTz, Utc(tick.NextTick ?? DateTimeOffset.MaxValue));
            Add(claim, "tick", NpgsqlDbType.TimestampTz, Utc(tick.Tick));
            Add(claim, "name", NpgsqlDbType.Text, tick.Name);
            Add(claim, "expected", NpgsqlDbType.TimestampTz, Utc(tick.ExpectedNextTick));
            if (await claim.ExecuteNonQueryAsync(ct) != 1)
            {
                return new TickClaim(false, null);
            }

            if (job is null)
            {
                return new TickClaim(true, null);
            }

            var id = (await EnqueueCoreAsync(c, tx, [job], ct))[0].Id;
            await using var record = Command(c, tx, "UPDATE {s}.recurring_jobs SET last_job_id = @id WHERE name = @name");
            Add(record, "id", NpgsqlDbType.Bigint, id);
            Add(record, "name", NpgsqlDbType.Text, tick.Name);
            await record.ExecuteNonQueryAsync(ct);
            return new TickClaim(true, id);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var upsert = Command(c, tx, """
                INSERT INTO {s}.queues (name, paused, updated_at, rate_limit, concurrency_limit) VALUES (@queue, false, @now, @rate, @concurrency)
                ON CONFLICT (name) DO UPDATE SET rate_limit = excluded.rate_limit, concurrency_limit = excluded.concurrency_limit,
                    rate_tokens = NULL, rate_refilled_at = NULL, updated_at = excluded.updated_at
                """);
            Add(upsert, "queue", NpgsqlDbType.Text, queue);
            Add(upsert, "rate", NpgsqlDbType.Double, limits.RatePerSecond);
            Add(upsert, "concurrency", NpgsqlDbType.Integer, limits.MaxRunning);
            await upsert.ExecuteNonQueryAsync(ct);
            await NotifyAsync(c, tx, [queue], ct);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyDictionary<string, QueueLimits>>(async (c, ct) =>
        {
            await using var select = Command(c, null, "SELECT name, rate_limit, concurrency_limit FROM {s}.queues WHERE rate_limit IS NOT NULL OR concurrency_limit IS NOT NULL ORDER BY name");
            await using var r = await select.ExecuteReaderAsync(ct);
            var limits = new Dictionary<string, QueueLimits>(StringComparer.Ordinal);
            while (await r.ReadAsync(ct))
            {
                limits[r.GetString(0)] = new QueueLimits
                {
                    RatePerSecond = r.IsDBNull(1) ? null : r.GetDouble(1),
                    MaxRunning = r.IsDBNull(2) ? null : r.GetInt32(2),
                };
            }

            return limits;
        }, cancellationToken);

    /// <summary>
    /// Locks the rows of the limited queues among <paramref name="queues"/> (in name order, so two leases never wait on each
    /// other in a cycle) for the rest of the lease transaction: leases of a limited queue are serialised fleet-wide, those
    /// of unlimited queues are not slowed.
    /// </summary>
    private NpgsqlBatchCommand LimitedQueuesCommand(string[] queues)
    {
        var select = BatchCommand("""
            SELECT name, rate_limit, concurrency_limit, rate_tokens, extract(epoch FROM (@now - rate_refilled_at))::double precision
            FROM {s}.queues
            WHERE name = ANY(@queues) AND (rate_limit IS NOT NULL OR concurrency_limit IS NOT NULL)
            ORDER BY name
            FOR UPDATE
            """);
        Add(select, "queues", NpgsqlDbType.Array | NpgsqlDbType.Text, queues);
        return select;
    }

    private static async Task<Dictionary<string, QueueLimit>> ReadLimitsAsync(NpgsqlDataReader r, CancellationToken ct)
    {
        var limits = new Dictionary<string, QueueLimit>(StringComparer.Ordinal);
        while (await r.ReadAsync(ct))
        {
            limits[r.GetString(0)] = new QueueLimit(
                r.IsDBNull(1) ? null : r.GetDouble(1),
                r.IsDBNull(2) ? null : r.GetInt32(2),
                r.IsDBNull(3) ? null : r.GetDouble(3),
                r.IsDBNull(4) ? null : r.GetDouble(4));
        }

        return limits;
    }

    /// <summary>A locked queue's limits and token bucket (one second's worth, at least one token, full when first used).</summary>
    private sealed record QueueLimit(double? Rate, int? MaxRunning, double? Tokens, double? ElapsedSeconds)
    {
        private double Refilled()
        {
            var rate = Rate!.Value;
            var capacity = Math.Max(1, rate);
            return Tokens is { } tokens && ElapsedSeconds is { } elapsed ? Math.Min(capacity, tokens + (Math.Max(0, elapsed) * rate)) : capacity;
        }

        /// <summary>How many of <paramref name="wanted"/> may start now. Counted after the row lock, so other machines' committed leases are seen.</summary>
        internal async Task<int> AllowanceAsync(PostgresJobStore store, NpgsqlConnection c, NpgsqlTransaction tx, string queue, int wanted, CancellationToken ct)
        {
            if (MaxRunning is { } maxRunning)
            {
                await using var count = store.Command(c, tx, "SELECT count(*) FROM {s}.jobs WHERE queue = @queue AND state = 'running'");
                Add(count, "queue", NpgsqlDbType.Text, queue);
                var running = (long)(await count.ExecuteScalarAsync(ct))!;
                wanted = (int)Math.Min(wanted, Math.Max(0, maxRunning - running));
            }

            if (Rate is not null)
            {
                wanted = (int)Math.Min(wanted, Math.Floor(Refilled() + 1e-9));
            }

            return wanted;
        }

        /// <summary>Takes one token per started job.</summary>
        internal async Task ChargeAsync(PostgresJobStore store, NpgsqlConnection c, NpgsqlTransaction tx, string queue, int started, CancellationToken ct)
        {
            if (Rate is null)
            {
                return;
            }

            await using var update = store.Command(c, tx, "UPDATE {s}.queues SET rate_tokens = @tokens, rate_refilled_at = @now WHERE name = @queue");
            Add(update, "tokens", NpgsqlDbType.Double, Refilled() - started);
            Add(update, "queue", NpgsqlDbType.Text, queue);
            await update.ExecuteNonQueryAsync(ct);
        }
    }
}
