using Bulwark.Jobs;
using Bulwark.Scheduling;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

public sealed partial class SqliteJobStore : IRecurringJobStore, IQueueLimitStore
{
    private const string RecurringColumns =
        "name, cron, time_zone, queue, type, payload, priority, max_attempts, timeout_ms, backoff, misfire, next_tick, last_tick, last_job_id";

    /// <inheritdoc />
    public Task UpsertRecurringAsync(RecurringJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        job.Validate();
        // The schedule's next tick survives a re-declaration (every process declares its code-defined jobs at start-up)
        // unless the schedule itself changed.
        return WriteAsync(c => Execute(c,
            $"INSERT INTO recurring_jobs ({RecurringColumns}, updated_at) VALUES (@name, @cron, @tz, @queue, @type, @payload, @priority, @max_attempts, " +
            "@timeout_ms, @backoff, @misfire, @next_tick, NULL, NULL, @now) ON CONFLICT (name) DO UPDATE SET " +
            "next_tick = CASE WHEN cron = excluded.cron AND time_zone = excluded.time_zone THEN next_tick ELSE excluded.next_tick END, " +
            "cron = excluded.cron, time_zone = excluded.time_zone, queue = excluded.queue, type = excluded.type, payload = excluded.payload, " +
            "priority = excluded.priority, max_attempts = excluded.max_attempts, timeout_ms = excluded.timeout_ms, backoff = excluded.backoff, " +
            "misfire = excluded.misfire, updated_at = excluded.updated_at",
            ("@name", job.Name), ("@cron", job.Cron), ("@tz", job.TimeZone), ("@queue", job.Queue), ("@type", job.Type), ("@payload", job.Payload),
            ("@priority", job.Priority), ("@max_attempts", job.MaxAttempts), ("@timeout_ms", (long)job.Timeout.TotalMilliseconds),
            ("@backoff", job.Backoff.ToString()), ("@misfire", MisfireName(job.Misfire)), ("@next_tick", JobRow.ToMs(job.NextTick)), ("@now", c.Now)),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RemoveRecurringAsync(string name, CancellationToken cancellationToken = default)
    {
        RecurringJob.ValidateName(name);
        return WriteAsync(c => Execute(c, "DELETE FROM recurring_jobs WHERE name = @name", ("@name", name)) == 1, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RecurringJob>> ListRecurringAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<RecurringJob>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {RecurringColumns} FROM recurring_jobs ORDER BY name";
            using var reader = command.ExecuteReader();
            var list = new List<RecurringJob>();
            while (reader.Read())
            {
                list.Add(ReadRecurring(reader));
            }

            return list;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<TickClaim> ClaimRecurringTickAsync(RecurringTick tick, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tick);
        var job = tick.Job is null ? null : JobValidator.Validate(tick.Job);
        return WriteAsync(c =>
        {
            // The guarded update is the claim: of several stores (or processes) claiming one tick, only the first changes the row.
            var claimed = Execute(c,
                "UPDATE recurring_jobs SET next_tick = @next, last_tick = @tick, updated_at = @now WHERE name = @name AND next_tick = @expected",
                ("@next", JobRow.ToMs(tick.NextTick ?? DateTimeOffset.MaxValue)), ("@tick", JobRow.ToMs(tick.Tick)), ("@now", c.Now),
                ("@name", tick.Name), ("@expected", JobRow.ToMs(tick.ExpectedNextTick))) == 1;
            if (!claimed || job is null)
            {
                return new TickClaim(claimed, null);
            }

            var id = Enqueue(c, [job])[0].Id;
            Execute(c, "UPDATE recurring_jobs SET last_job_id = @id WHERE name = @name", ("@id", id), ("@name", tick.Name));
            return new TickClaim(true, id);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task SetQueueLimitsAsync(string queue, QueueLimits limits, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        return WriteAsync(c => Execute(c,
            "INSERT INTO queues (name, paused, updated_at, rate_limit, concurrency_limit) VALUES (@name, 0, @now, @rate, @concurrency) " +
            "ON CONFLICT (name) DO UPDATE SET rate_limit = excluded.rate_limit, concurrency_limit = excluded.concurrency_limit, " +
            "rate_tokens = NULL, rate_refilled_at = NULL, updated_at = excluded.updated_at",
            ("@name", queue), ("@now", c.Now), ("@rate", limits.RatePerSecond), ("@concurrency", limits.MaxRunning)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, QueueLimits>> GetQueueLimitsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyDictionary<string, QueueLimits>>(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name, rate_limit, concurrency_limit FROM queues WHERE rate_limit IS NOT NULL OR concurrency_limit IS NOT NULL ORDER BY name";
            using var reader = command.ExecuteReader();
            var limits = new Dictionary<string, QueueLimits>(StringComparer.Ordinal);
            while (reader.Read())
            {
                limits[reader.GetString(0)] = new QueueLimits
                {
                    RatePerSecond = reader.IsDBNull(1) ? null : reader.GetDouble(1),
                    MaxRunning = reader.IsDBNull(2) ? null : reader.GetInt32(2),
                };
            }

            return limits;
        }, cancellationToken);

    private static RecurringJob ReadRecurring(SqliteDataReader r) => new()
    {
        Name = r.GetString(0),
        Cron = r.GetString(1),
        TimeZone = r.GetString(2),
        Queue = r.GetString(3),
        Type = r.GetString(4),
        Payload = r.GetString(5),
        Priority = r.GetInt32(6),
        MaxAttempts = r.GetInt32(7),
        Timeout = TimeSpan.FromMilliseconds(r.GetInt64(8)),
        Backoff = BackoffPolicy.Parse(r.GetString(9)),
        Misfire = r.GetString(10) == "run_once" ? MisfirePolicy.RunOnce : MisfirePolicy.Skip,
        NextTick = JobRow.ToTime(r.GetInt64(11)),
        LastTick = r.IsDBNull(12) ? null : JobRow.ToTime(r.GetInt64(12)),
        LastJobId = r.IsDBNull(13) ? null : r.GetInt64(13),
    };

    private static string MisfireName(MisfirePolicy policy) => policy switch
    {
        MisfirePolicy.Skip => "skip",
        MisfirePolicy.RunOnce => "run_once",
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown misfire policy."),
    };

    /// <summary>
    /// A queue's pause flag and limits, read inside the lease transaction. SQLite's write lock serialises lease transactions
    /// of every process on the file, so counting running jobs and taking rate tokens here holds fleet-wide.
    /// </summary>
    private readonly record struct QueueControl(bool Paused, double? Rate, int? MaxRunning, double? Tokens, long? RefilledAt)
    {
        internal static QueueControl Read(WriteContext c, string queue)
        {
            var rows = Query(c, "SELECT paused, rate_limit, concurrency_limit, rate_tokens, rate_refilled_at FROM queues WHERE name = @queue",
                r => new QueueControl(r.GetInt64(0) != 0, r.IsDBNull(1) ? null : r.GetDouble(1), r.IsDBNull(2) ? null : r.GetInt32(2),
                    r.IsDBNull(3) ? null : r.GetDouble(3), r.IsDBNull(4) ? null : r.GetInt64(4)),
                ("@queue", queue));
            return rows.Count == 0 ? default : rows[0];
        }

        /// <summary>How many of <paramref name="wanted"/> may start now.</summary>
        internal int Allowance(WriteContext c, string queue, int wanted)
        {
            if (MaxRunning is { } maxRunning)
            {
                var running = (long)Scalar(c, SqliteSql.CountRunningOfQueue, ("@queue", queue))!;
                wanted = (int)Math.Min(wanted, Math.Max(0, maxRunning - running));
            }

            if (Rate is not null)
            {
                wanted = (int)Math.Min(wanted, Math.Floor(Refilled(c.Now) + 1e-9));
            }

            return wanted;
        }

        /// <summary>Takes <paramref name="started"/> rate tokens (after a refill to now).</summary>
        internal void Charge(WriteContext c, string queue, int started)
        {
            if (Rate is not null)
            {
                Execute(c, "UPDATE queues SET rate_tokens = @tokens, rate_refilled_at = @now WHERE name = @queue",
                    ("@tokens", Refilled(c.Now) - started), ("@now", c.Now), ("@queue", queue));
            }
        }

        /// <summary>A token bucket holding one second's worth (at least one), full when first used.</summary>
        private double Refilled(long now)
        {
            var rate = Rate!.Value;
            var capacity = Math.Max(1, rate);
            if (Tokens is not { } tokens || RefilledAt is not { } at)
            {
                return capacity;
            }

            return Math.Min(capacity, tokens + (Math.Max(0, now - at) / 1000.0 * rate));
        }
    }
}
