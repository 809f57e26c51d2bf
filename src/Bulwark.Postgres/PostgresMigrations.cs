using Npgsql;

namespace Bulwark.Postgres;

/// <summary>
/// Versioned schema migrations. Each is applied in its own transaction under a transaction-scoped advisory lock keyed by
/// the schema, so when ten processes start at once one migrates and the others wait, then find nothing left to do.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>Each entry is applied once, in order; never edit a shipped one, append a new version.</summary>
    public static IReadOnlyList<(int Version, string Name, string Sql)> All { get; } =
    [
        (1, "jobs, queues, workers", """
            CREATE TABLE {s}.jobs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                queue text NOT NULL,
                type text NOT NULL,
                payload text NOT NULL,
                priority integer NOT NULL DEFAULT 0,
                state text NOT NULL CHECK (state IN ('pending','scheduled','ready','running','completed','failed','dead_letter','cancelled')),
                run_at timestamptz NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                max_attempts integer NOT NULL CHECK (max_attempts >= 1),
                timeout_ticks bigint NOT NULL CHECK (timeout_ticks > 0),
                backoff text NOT NULL,
                key text,
                depends_on bigint[] NOT NULL DEFAULT '{}',
                expires_at timestamptz,
                attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
                lease_epoch bigint NOT NULL DEFAULT 0,
                lease_owner text,
                lease_expires_at timestamptz,
                progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
                checkpoint text,
                result text,
                errors jsonb NOT NULL DEFAULT '[]',
                trace_parent text,
                reason text,
                cancel_requested boolean NOT NULL DEFAULT false,
                started_at timestamptz,
                finished_at timestamptz,
                lost_leases integer NOT NULL DEFAULT 0,
                -- The job row is the only truth: a lease exists exactly while the job runs.
                CONSTRAINT running_has_lease CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
                CONSTRAINT terminal_has_finished_at CHECK ((state IN ('completed','failed','dead_letter','cancelled')) = (finished_at IS NOT NULL))
            );
            -- Leasing reads only ready rows, in lease order; claimed rows leave the index instead of being skipped over.
            CREATE INDEX jobs_ready_idx ON {s}.jobs (queue, priority DESC, run_at, id) WHERE state = 'ready';
            CREATE INDEX jobs_scheduled_idx ON {s}.jobs (run_at) WHERE state = 'scheduled';
            CREATE INDEX jobs_scheduled_queue_idx ON {s}.jobs (queue, run_at) WHERE state = 'scheduled';
            CREATE INDEX jobs_running_lease_idx ON {s}.jobs (lease_expires_at) WHERE state = 'running';
            CREATE INDEX jobs_running_owner_idx ON {s}.jobs (lease_owner) WHERE state = 'running';
            CREATE INDEX jobs_pending_deps_idx ON {s}.jobs USING gin (depends_on) WHERE state = 'pending';
            CREATE INDEX jobs_expires_idx ON {s}.jobs (expires_at) WHERE expires_at IS NOT NULL AND state IN ('pending','scheduled','ready','running');
            CREATE INDEX jobs_finished_idx ON {s}.jobs (state, finished_at) WHERE finished_at IS NOT NULL;
            CREATE INDEX jobs_queue_state_id_idx ON {s}.jobs (queue, state, id);
            CREATE INDEX jobs_state_id_idx ON {s}.jobs (state, id);
            CREATE INDEX jobs_key_idx ON {s}.jobs (key, id) WHERE key IS NOT NULL;
            -- An idempotency key is held by at most one live job; terminal jobs free it.
            CREATE UNIQUE INDEX jobs_live_key_uidx ON {s}.jobs (key) WHERE key IS NOT NULL AND state IN ('pending','scheduled','ready','running');

            CREATE TABLE {s}.queues (
                name text PRIMARY KEY,
                paused boolean NOT NULL DEFAULT false,
                updated_at timestamptz NOT NULL
            );

            CREATE TABLE {s}.workers (
                id text PRIMARY KEY,
                name text NOT NULL,
                host text NOT NULL,
                pid integer NOT NULL,
                queues text[] NOT NULL,
                concurrency integer NOT NULL,
                started_at timestamptz NOT NULL,
                state text NOT NULL CHECK (state IN ('active','draining','stopped','dead')),
                active_jobs integer NOT NULL DEFAULT 0,
                memory_bytes bigint NOT NULL DEFAULT 0,
                heartbeat_at timestamptz NOT NULL
            );
            CREATE INDEX workers_name_host_idx ON {s}.workers (name, host);
            CREATE INDEX workers_heartbeat_idx ON {s}.workers (heartbeat_at) WHERE state IN ('active','draining');
            """),
        (2, "queue limits, recurring jobs", """
            ALTER TABLE {s}.queues
                ADD COLUMN rate_limit double precision CHECK (rate_limit IS NULL OR rate_limit > 0),
                ADD COLUMN concurrency_limit integer CHECK (concurrency_limit IS NULL OR concurrency_limit >= 1),
                ADD COLUMN rate_tokens double precision,
                ADD COLUMN rate_refilled_at timestamptz;

            CREATE TABLE {s}.recurring_jobs (
                name text PRIMARY KEY,
                cron text NOT NULL,
                time_zone text NOT NULL,
                queue text NOT NULL,
                type text NOT NULL,
                payload text NOT NULL,
                priority integer NOT NULL,
                max_attempts integer NOT NULL CHECK (max_attempts >= 1),
                timeout_ticks bigint NOT NULL CHECK (timeout_ticks > 0),
                backoff text NOT NULL,
                misfire text NOT NULL CHECK (misfire IN ('skip','run_once')),
                next_tick timestamptz NOT NULL,
                last_tick timestamptz,
                last_job_id bigint,
                updated_at timestamptz NOT NULL
            );
            """),
        // worker_id is '' for a breaker opened by hand (it holds for every worker), else the worker whose own failures
        // tripped it (reported so the fleet can see it). A closed breaker has no row.
        (3, "circuit breakers", """
            CREATE TABLE {s}.circuit_breakers (
                type text NOT NULL,
                worker_id text NOT NULL,
                state text NOT NULL CHECK (state IN ('open','half_open')),
                failures integer NOT NULL CHECK (failures >= 0),
                opened_at timestamptz NOT NULL,
                reset_at timestamptz,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (type, worker_id),
                CHECK (worker_id <> '' OR (state = 'open' AND reset_at IS NULL))
            );
            CREATE INDEX circuit_breakers_worker ON {s}.circuit_breakers (worker_id);
            """),
        // Per-queue defaults (PUT /queues/{q}/policy), applied at enqueue to jobs that do not set their own, and the
        // queue's retention. NULL: no default of the queue's own for that field.
        (4, "queue policies", """
            ALTER TABLE {s}.queues
                ADD COLUMN max_attempts integer CHECK (max_attempts IS NULL OR max_attempts BETWEEN 1 AND 1000),
                ADD COLUMN backoff text CHECK (backoff IS NULL OR backoff <> ''),
                ADD COLUMN timeout_ticks bigint CHECK (timeout_ticks IS NULL OR timeout_ticks > 0),
                ADD COLUMN retention_ticks bigint CHECK (retention_ticks IS NULL OR retention_ticks >= 0);
            """),
        // A small live table: jobs that can still change stay in `jobs`, a terminal job moves to `job_history` in the
        // statement that ends it (JobMoves). `jobs` keeps only the indexes leasing, promotion, reclaim, expiry, keys and
        // dependencies read; none holds lease_expires_at, progress or checkpoint, and pages keep free room (fillfactor),
        // so heartbeats and progress writes are HOT updates that touch no index. Retention and listings of finished jobs
        // read job_history's own indexes. Ids stay one sequence (jobs' identity); history ids are copied, never drawn.
        (5, "live and history tables", """
            CREATE TABLE {s}.job_history (LIKE {s}.jobs INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
            ALTER TABLE {s}.job_history
                ADD PRIMARY KEY (id),
                ADD CONSTRAINT job_history_terminal CHECK (state IN ('completed','failed','dead_letter','cancelled'));
            WITH moved AS (DELETE FROM {s}.jobs WHERE state IN ('completed','failed','dead_letter','cancelled') RETURNING *)
            INSERT INTO {s}.job_history SELECT * FROM moved;
            ALTER TABLE {s}.jobs ADD CONSTRAINT jobs_live CHECK (state IN ('pending','scheduled','ready','running'));

            CREATE INDEX job_history_queue_state_id_idx ON {s}.job_history (queue, state, id);
            CREATE INDEX job_history_state_id_idx ON {s}.job_history (state, id);
            CREATE INDEX job_history_finished_idx ON {s}.job_history (state, finished_at);
            CREATE INDEX job_history_key_idx ON {s}.job_history (key, id) WHERE key IS NOT NULL;

            -- Reclaim reads the running rows through jobs_running_owner_idx (they are bounded by the fleet's concurrency),
            -- so an index on lease_expires_at no longer makes every heartbeat a non-HOT update.
            DROP INDEX {s}.jobs_running_lease_idx;
            DROP INDEX {s}.jobs_finished_idx;
            DROP INDEX {s}.jobs_queue_state_id_idx;
            DROP INDEX {s}.jobs_state_id_idx;
            DROP INDEX {s}.jobs_key_idx;
            -- Every row of jobs is live, so a key is unique over the whole table.
            DROP INDEX {s}.jobs_live_key_uidx;
            CREATE UNIQUE INDEX jobs_key_uidx ON {s}.jobs (key) WHERE key IS NOT NULL;
            ALTER TABLE {s}.jobs SET (fillfactor = 80);
            """),
        // The live table churns (every finished job is deleted from it), so vacuum often frees its last pages and then
        // truncates the file, which needs an ACCESS EXCLUSIVE lock: while vacuum waits for it and holds it, every lease,
        // finish and enqueue on `jobs` queues behind (seen as autovacuum in wait event VacuumTruncate during the 1,000
        // jobs/s cross-process latency run). The freed pages are reused by the next inserts anyway.
        (6, "live table keeps its pages", """
            ALTER TABLE {s}.jobs SET (vacuum_truncate = false);
            """),
        // Every finished job is one insert into job_history, and each of its b-tree indexes is one more WAL record and page
        // write on the finish (a drain measured 6 WAL records per finish with four, 3 with the primary key alone; the finish
        // statement's server time fell from 30 to 17.5 µs a job without them). Most finished jobs complete, and completed jobs
        // are listed newest first (the primary key backwards, or by queue) and purged oldest first: they keep the primary
        // key and (queue, id). The rare unsuccessful ends, which the dead-letter screens and bulk retry select by state, get
        // partial indexes that a completion never touches. Retention reads finished_at through a BRIN index: rows arrive
        // in finish order, so a block range's summary is tight, and an insert into the open range writes nothing.
        (7, "history indexes for the finish", """
            DROP INDEX {s}.job_history_queue_state_id_idx;
            DROP INDEX {s}.job_history_state_id_idx;
            DROP INDEX {s}.job_history_finished_idx;
            CREATE INDEX job_history_queue_id_idx ON {s}.job_history (queue, id);
            CREATE INDEX job_history_unsuccessful_queue_idx ON {s}.job_history (queue, state, id) WHERE state <> 'completed';
            CREATE INDEX job_history_unsuccessful_idx ON {s}.job_history (state, id) WHERE state <> 'completed';
            CREATE INDEX job_history_finished_brin ON {s}.job_history USING brin (finished_at);
            """),
    ];

    public static int Latest => All[^1].Version;

    /// <summary>Brings <paramref name="schema"/> to the latest version. Returns (from, to).</summary>
    public static Task<(int From, int To)> ApplyAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken) =>
        ApplyAsync(connection, schema, All, cancellationToken);

    /// <summary>
    /// Applies <paramref name="migrations"/> one transaction each, every one under the advisory lock and re-reading the
    /// version inside it: a migration that fails rolls back alone, leaving the schema at the version before it (the
    /// ones before it stay applied). Tests pass a list with a broken last entry.
    /// </summary>
    internal static async Task<(int From, int To)> ApplyAsync(
        NpgsqlConnection connection, string schema, IReadOnlyList<(int Version, string Name, string Sql)> migrations, CancellationToken cancellationToken)
    {
        var quoted = Quote(schema);
        var latest = migrations[^1].Version;
        int? from = null;
        while (true)
        {
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('bulwark.migrate.' || @schema, 0))", connection, tx))
            {
                lockCmd.Parameters.AddWithValue("schema", schema);
                await lockCmd.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var create = new NpgsqlCommand(
                $"CREATE SCHEMA IF NOT EXISTS {quoted}; CREATE TABLE IF NOT EXISTS {quoted}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());",
                connection,
                tx))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            int current;
            await using (var read = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {quoted}.schema_migrations", connection, tx))
            {
                current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }

            from ??= current;
            if (current > latest)
            {
                throw new InvalidOperationException(
                    $"The PostgreSQL schema '{schema}' is at version {current}, newer than this Bulwark build knows ({latest}); upgrade Bulwark on this machine or point it at another schema. The schema was not changed.");
            }

            var next = migrations.FirstOrDefault(m => m.Version > current);
            if (next.Sql is null)
            {
                await tx.CommitAsync(cancellationToken);
                return (from.Value, current);
            }

            await using (var apply = new NpgsqlCommand(next.Sql.Replace("{s}", quoted, StringComparison.Ordinal), connection, tx))
            {
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand($"INSERT INTO {quoted}.schema_migrations (version, name) VALUES (@v, @n)", connection, tx))
            {
                record.Parameters.AddWithValue("v", next.Version);
                record.Parameters.AddWithValue("n", next.Name);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }
    }

    public static string Quote(string schema) => "\"" + schema + "\"";
}
