using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    /// <inheritdoc />
    public Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default)
    {
        ValidateWorker(worker);
        return WriteAsync(async (c, tx, ct) =>
        {
            // A restart under the same name and host recovers its predecessor's work at once.
            var dead = new List<string>();
            await using (var declare = Command(c, tx, """
                UPDATE {s}.workers SET state = 'dead'
                WHERE name = @name AND host = @host AND id <> @id AND state IN ('active','draining')
                RETURNING id
                """))
            {
                Add(declare, "name", NpgsqlDbType.Text, worker.Name);
                Add(declare, "host", NpgsqlDbType.Text, worker.Host);
                Add(declare, "id", NpgsqlDbType.Text, worker.Id);
                await using var reader = await declare.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    dead.Add(reader.GetString(0));
                }
            }

            var reclaimed = await ReclaimJobsAsync(
                c,
                tx,
                "lease_owner IN (SELECT w.id FROM {s}.workers w WHERE w.name = @name AND w.host = @host AND w.id <> @id)",
                cmd =>
                {
                    Add(cmd, "name", NpgsqlDbType.Text, worker.Name);
                    Add(cmd, "host", NpgsqlDbType.Text, worker.Host);
                    Add(cmd, "id", NpgsqlDbType.Text, worker.Id);
                },
                ct);
            await UpsertWorkerAsync(c, tx, worker, ct);
            return reclaimed with { DeadWorkers = dead };
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        ValidateWorker(heartbeat.Worker);
        if (heartbeat.LeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The lease duration must be positive (got {heartbeat.LeaseDuration}).", nameof(heartbeat));
        }

        return WriteAsync(async (c, tx, ct) =>
        {
            await UpsertWorkerAsync(c, tx, heartbeat.Worker, ct);
            var renewed = new HashSet<LeaseToken>();
            var cancel = new List<LeaseToken>();
            if (heartbeat.Held.Count > 0)
            {
                await using var renew = Command(c, tx, """
                    UPDATE {s}.jobs j SET lease_expires_at = @now + @lease, updated_at = @now
                    FROM unnest(@ids, @epochs) AS h(id, epoch)
                    WHERE j.id = h.id AND j.lease_epoch = h.epoch AND j.state = 'running' AND j.lease_owner = @owner
                    RETURNING j.id, j.lease_epoch, j.cancel_requested
                    """);
                Add(renew, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, heartbeat.Held.Select(t => t.JobId).ToArray());
                Add(renew, "epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint, heartbeat.Held.Select(t => t.Epoch).ToArray());
                Add(renew, "owner", NpgsqlDbType.Text, heartbeat.Worker.Id);
                Add(renew, "lease", NpgsqlDbType.Interval, heartbeat.LeaseDuration);
                await using var reader = await renew.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var token = new LeaseToken(reader.GetInt64(0), reader.GetInt64(1));
                    renewed.Add(token);
                    if (reader.GetBoolean(2))
                    {
                        cancel.Add(token);
                    }
                }
            }

            var lost = heartbeat.Held.Where(t => !renewed.Contains(t)).Distinct().ToArray();
            return new HeartbeatResult(lost, cancel, renewed.Count);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workerId);
        return WriteAsync(async (c, tx, ct) =>
        {
            await using var update = Command(c, tx, "UPDATE {s}.workers SET state = 'stopped', active_jobs = 0, heartbeat_at = @now WHERE id = @id");
            Add(update, "id", NpgsqlDbType.Text, workerId);
            return await update.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        if (olderThan <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, "The worker retention must be positive.");
        }

        return WriteAsync(async (c, tx, ct) =>
        {
            await using var delete = Command(c, tx, """
                DELETE FROM {s}.workers w
                WHERE w.state IN ('stopped','dead') AND w.heartbeat_at < @now - @keep
                  AND NOT EXISTS (SELECT 1 FROM {s}.jobs j WHERE j.state = 'running' AND j.lease_owner = w.id)
                """);
            Add(delete, "keep", NpgsqlDbType.Interval, olderThan);
            return await delete.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default)
    {
        if (workerDeadAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(workerDeadAfter), workerDeadAfter, "The dead-worker threshold must be positive.");
        }

        return WriteAsync(async (c, tx, ct) =>
        {
            var dead = new List<string>();
            await using (var declare = Command(c, tx, """
                UPDATE {s}.workers SET state = 'dead'
                WHERE state IN ('active','draining') AND heartbeat_at < @now - @dead_after
                RETURNING id
                """))
            {
                Add(declare, "dead_after", NpgsqlDbType.Interval, workerDeadAfter);
                await using var reader = await declare.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    dead.Add(reader.GetString(0));
                }
            }

            var reclaimed = await ReclaimJobsAsync(
                c,
                tx,
                "(lease_expires_at <= @now OR lease_owner IN (SELECT w.id FROM {s}.workers w WHERE w.state = 'dead'))",
                _ => { },
                ct);
            return reclaimed with { DeadWorkers = dead };
        }, cancellationToken);
    }

    /// <summary>
    /// Takes running jobs matching <paramref name="victims"/> back from their owners in one statement: cancelled when a
    /// cancel was requested, poison when the crashed attempt was the last, otherwise ready again (attempt stays charged,
    /// except for a first crash in company on the last attempt); each job's lost-lease count goes up by one.
    /// </summary>
    private async Task<ReclaimResult> ReclaimJobsAsync(NpgsqlConnection c, NpgsqlTransaction tx, string victims, Action<NpgsqlCommand> parameters, CancellationToken ct)
    {
        // A job lost on its last attempt beside other jobs, at its first crash, may be a bystander: it gets the attempt
        // back and, a suspect now, runs alone (docs/worker.md "Suspects run alone"). Company is counted before the update.
        // A cancelled or poisoned job moves to job_history; the rest are updated in place (the guards exclude each other).
        static string Refund(string j, string company) =>
            $"(NOT {j}.cancel_requested AND {j}.attempt >= {j}.max_attempts AND {j}.lost_leases = 0 AND coalesce({company}, 1) > 1)";
        static string Poison(string j, string company) =>
            $"(NOT {j}.cancel_requested AND {j}.attempt >= {j}.max_attempts AND NOT {Refund(j, company)})";
        static string Crash(string j, string company) => JobRows.ErrorJson(
            $"{j}.attempt",
            $"{j}.lease_owner",
            $"{j}.started_at",
            FailureCategory.Crash,
            $"CASE WHEN {Refund(j, company)} THEN 'Lost beside other jobs at its first crash, on its last attempt: the attempt is given back and it runs alone next.' WHEN {j}.lease_expires_at <= @now THEN 'Lease expired: its worker stopped renewing it.' ELSE 'Its worker was declared dead.' END");
        var ends = $"(j.cancel_requested OR {Poison("j", "company.running")})";
        var move = JobMoves.ToHistoryCtes(
            where: $"j.id = victims.id AND {ends}",
            set: new Dictionary<string, string>
            {
                ["state"] = "CASE WHEN m.cancel_requested THEN 'cancelled' ELSE 'dead_letter' END",
                ["reason"] = "CASE WHEN m.cancel_requested THEN 'Cancelled by a user; its worker was lost before it stopped.' " +
                             "ELSE 'Poison: its worker crashed or vanished on the last of ' || m.max_attempts || ' attempts.' END",
                ["errors"] = "m.errors || " + Crash("m", "m.company_running"),
                ["lost_leases"] = "m.lost_leases + 1",
            },
            returning: "id, state, queue",
            from: "USING victims LEFT JOIN company ON company.lease_owner = victims.lease_owner",
            extra: "company.running AS company_running");
        var sql = $$"""
            WITH victims AS (
                SELECT id, lease_owner FROM {s}.jobs WHERE state = 'running' AND {{victims}}
                ORDER BY id
                FOR UPDATE SKIP LOCKED
            ),
            company AS (
                SELECT r.lease_owner, count(*) AS running FROM {s}.jobs r
                WHERE r.state = 'running' AND r.lease_owner IN (SELECT lease_owner FROM victims)
                GROUP BY r.lease_owner
            ),
            {{move}},
            updated AS (
                UPDATE {s}.jobs j
                SET state = 'ready',
                    attempt = CASE WHEN {{Refund("j", "company.running")}} THEN j.attempt - 1 ELSE j.attempt END,
                    errors = j.errors || {{Crash("j", "company.running")}},
                    lost_leases = j.lost_leases + 1,
                    lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
                FROM victims LEFT JOIN company ON company.lease_owner = victims.lease_owner
                WHERE j.id = victims.id AND NOT {{ends}}
                RETURNING j.id, j.state, j.queue
            )
            SELECT * FROM finished UNION ALL SELECT * FROM updated
            """;
        await using var command = Command(c, tx, sql);
        parameters(command);
        List<long> ready = [], poisoned = [], cancelled = [];
        var queues = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetInt64(0);
                switch (reader.GetString(1))
                {
                    case "ready": ready.Add(id); queues.Add(reader.GetString(2)); break;
                    case "dead_letter": poisoned.Add(id); break;
                    default: cancelled.Add(id); break;
                }
            }
        }

        if (poisoned.Count + cancelled.Count > 0)
        {
            await ResolveDependentsAsync(c, tx, [.. poisoned, .. cancelled], null, ct);
        }

        await NotifyAsync(c, tx, queues, ct);
        ready.Sort();
        poisoned.Sort();
        cancelled.Sort();
        return new ReclaimResult(ready, poisoned, cancelled, []);
    }

    private async Task UpsertWorkerAsync(NpgsqlConnection c, NpgsqlTransaction tx, WorkerRegistration worker, CancellationToken ct)
    {
        // A worker declared dead that beats again (it was frozen, not gone) is alive: its old leases are gone (its beat
        // learns that from the lost list), and what it leases from now on must not be reclaimed as a dead worker's.
        await using var upsert = Command(c, tx, """
            INSERT INTO {s}.workers (id, name, host, pid, queues, concurrency, started_at, state, active_jobs, memory_bytes, heartbeat_at)
            VALUES (@id, @name, @host, @pid, @queues, @concurrency, @started_at, @state, @active, @memory, @now)
            ON CONFLICT (id) DO UPDATE SET
                name = excluded.name, host = excluded.host, pid = excluded.pid, queues = excluded.queues, concurrency = excluded.concurrency,
                state = excluded.state,
                active_jobs = excluded.active_jobs, memory_bytes = excluded.memory_bytes, heartbeat_at = excluded.heartbeat_at
            """);
        Add(upsert, "id", NpgsqlDbType.Text, worker.Id);
        Add(upsert, "name", NpgsqlDbType.Text, worker.Name);
        Add(upsert, "host", NpgsqlDbType.Text, worker.Host);
        Add(upsert, "pid", NpgsqlDbType.Integer, worker.ProcessId);
        Add(upsert, "queues", NpgsqlDbType.Array | NpgsqlDbType.Text, worker.Queues.ToArray());
        Add(upsert, "concurrency", NpgsqlDbType.Integer, worker.Concurrency);
        Add(upsert, "started_at", NpgsqlDbType.TimestampTz, worker.StartedAt.ToUniversalTime());
        Add(upsert, "state", NpgsqlDbType.Text, JobRows.NameOf(worker.State));
        Add(upsert, "active", NpgsqlDbType.Integer, worker.ActiveJobs);
        Add(upsert, "memory", NpgsqlDbType.Bigint, worker.MemoryBytes);
        await upsert.ExecuteNonQueryAsync(ct);
    }

    private static void ValidateWorker(WorkerRegistration worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (string.IsNullOrWhiteSpace(worker.Id) || string.IsNullOrWhiteSpace(worker.Name) || string.IsNullOrWhiteSpace(worker.Host))
        {
            throw new ArgumentException("A worker registration needs a non-empty id, name and host.", nameof(worker));
        }
    }
}
