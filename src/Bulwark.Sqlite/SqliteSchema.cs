using Bulwark.Jobs;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

/// <summary>
/// Versioned schema migrations, tracked in <c>PRAGMA user_version</c>. Each migration runs in one transaction
/// together with the version bump, so a crash mid-migration leaves the previous version intact.
/// </summary>
internal static class SqliteSchema
{
    internal const string LiveStates = "('pending','scheduled','ready','running')";
    internal const string TerminalStates = "('completed','failed','dead_letter','cancelled')";

    /// <summary>The columns migration 6 copies into job_history: written out, as a shipped migration must not change.</summary>
    private const string HistoryColumns =
        "id, queue, type, payload, priority, state, run_at, created_at, updated_at, max_attempts, timeout_ms, backoff, key, expires_at, " +
        "attempt, lease_epoch, lease_owner, lease_expires_at, progress, checkpoint, result, errors, trace_parent, reason, cancel_requested, " +
        "started_at, finished_at, lost_leases";

    /// <summary>The states <c>jobs_state</c> indexes (migration 3): those off the happy path, which few jobs pass through.</summary>
    internal const string ColdStates = "('pending','failed','dead_letter','cancelled')";

    /// <summary>The table a job in <paramref name="state"/> lives in (migration 6): <c>jobs</c> while it can change, then <c>job_history</c>.</summary>
    internal static string TableOf(JobState state) => state.IsTerminal() ? "job_history" : "jobs";

    /// <summary>Migration i brings the file to version i + 1. Append only; never edit a shipped one.</summary>
    internal static readonly string[] Migrations =
    [
        $"""
        CREATE TABLE jobs (
            id               INTEGER PRIMARY KEY AUTOINCREMENT,
            queue            TEXT    NOT NULL,
            type             TEXT    NOT NULL,
            payload          TEXT    NOT NULL,
            priority         INTEGER NOT NULL DEFAULT 0,
            state            TEXT    NOT NULL CHECK (state IN ('pending','scheduled','ready','running','completed','failed','dead_letter','cancelled')),
            run_at           INTEGER NOT NULL,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL,
            max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
            timeout_ms       INTEGER NOT NULL CHECK (timeout_ms > 0),
            backoff          TEXT    NOT NULL,
            key              TEXT,
            expires_at       INTEGER,
            attempt          INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            lease_epoch      INTEGER NOT NULL DEFAULT 0 CHECK (lease_epoch >= 0),
            lease_owner      TEXT,
            lease_expires_at INTEGER,
            progress         INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
            checkpoint       TEXT,
            result           TEXT,
            errors           TEXT    NOT NULL DEFAULT '[]',
            trace_parent     TEXT,
            reason           TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
            started_at       INTEGER,
            finished_at      INTEGER,
            lost_leases      INTEGER NOT NULL DEFAULT 0 CHECK (lost_leases >= 0),
            CHECK (state <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
            CHECK ((finished_at IS NOT NULL) = (state IN {TerminalStates}))
        );

        CREATE INDEX jobs_ready       ON jobs (queue, priority DESC, run_at, id) WHERE state = 'ready';
        CREATE INDEX jobs_scheduled   ON jobs (run_at) WHERE state = 'scheduled';
        CREATE INDEX jobs_lease       ON jobs (lease_expires_at) WHERE state = 'running';
        CREATE INDEX jobs_owner       ON jobs (lease_owner) WHERE state = 'running';
        CREATE UNIQUE INDEX jobs_live_key ON jobs (key) WHERE key IS NOT NULL AND state IN {LiveStates};
        CREATE INDEX jobs_key         ON jobs (key, id) WHERE key IS NOT NULL;
        CREATE INDEX jobs_queue_state ON jobs (queue, state, id);
        CREATE INDEX jobs_queue       ON jobs (queue, id);
        CREATE INDEX jobs_state       ON jobs (state, id);
        CREATE INDEX jobs_finished    ON jobs (state, finished_at) WHERE finished_at IS NOT NULL;
        CREATE INDEX jobs_expires     ON jobs (expires_at) WHERE expires_at IS NOT NULL AND state IN {LiveStates};

        CREATE TABLE job_dependencies (
            job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            parent_id INTEGER NOT NULL,
            PRIMARY KEY (job_id, parent_id)
        ) WITHOUT ROWID;
        CREATE INDEX job_dependencies_parent ON job_dependencies (parent_id);

        CREATE TABLE workers (
            id           TEXT    PRIMARY KEY,
            name         TEXT    NOT NULL,
            host         TEXT    NOT NULL,
            pid          INTEGER NOT NULL,
            queues       TEXT    NOT NULL,
            concurrency  INTEGER NOT NULL CHECK (concurrency >= 0),
            started_at   INTEGER NOT NULL,
            state        TEXT    NOT NULL CHECK (state IN ('active','draining','stopped','dead')),
            active_jobs  INTEGER NOT NULL DEFAULT 0,
            memory_bytes INTEGER NOT NULL DEFAULT 0,
            heartbeat_at INTEGER NOT NULL
        );
        CREATE INDEX workers_name ON workers (name, host);
        CREATE INDEX workers_heartbeat ON workers (heartbeat_at);

        CREATE TABLE queues (
            name       TEXT    PRIMARY KEY,
            paused     INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
            updated_at INTEGER NOT NULL
        );
        """,
        // 2: queue limits (rate as a token bucket, concurrency) and recurring job definitions.
        """
        ALTER TABLE queues ADD COLUMN rate_limit REAL CHECK (rate_limit IS NULL OR rate_limit > 0);
        ALTER TABLE queues ADD COLUMN concurrency_limit INTEGER CHECK (concurrency_limit IS NULL OR concurrency_limit >= 1);
        ALTER TABLE queues ADD COLUMN rate_tokens REAL;
        ALTER TABLE queues ADD COLUMN rate_refilled_at INTEGER;

        CREATE TABLE recurring_jobs (
            name         TEXT    PRIMARY KEY,
            cron         TEXT    NOT NULL,
            time_zone    TEXT    NOT NULL,
            queue        TEXT    NOT NULL,
            type         TEXT    NOT NULL,
            payload      TEXT    NOT NULL,
            priority     INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
            timeout_ms   INTEGER NOT NULL CHECK (timeout_ms > 0),
            backoff      TEXT    NOT NULL,
            misfire      TEXT    NOT NULL CHECK (misfire IN ('skip','run_once')),
            next_tick    INTEGER NOT NULL,
            last_tick    INTEGER,
            last_job_id  INTEGER,
            updated_at   INTEGER NOT NULL
        );
        """,
        // 3: cheaper state transitions. Every lease and completion rewrote entries of jobs_state (state, id) and of both
        // running indexes. jobs_state now covers only the states a job reaches off the happy path; listings of the hot
        // states (ready, scheduled, running, completed) go through jobs_queue_state per queue (ListJobsAsync). One running
        // index replaces two: running rows are bounded by the fleet's concurrency, so expiry scans all of it cheaply.
        $"""
        DROP INDEX jobs_state;
        DROP INDEX jobs_lease;
        DROP INDEX jobs_owner;
        CREATE INDEX jobs_state   ON jobs (state, id) WHERE state IN {ColdStates};
        CREATE INDEX jobs_running ON jobs (lease_owner, lease_expires_at) WHERE state = 'running';
        """,
        // 4: fleet-wide circuit breakers. worker_id is '' for a breaker opened by hand (it holds for every worker), else
        // the worker whose own failures tripped it (reported so the fleet can see it). A closed breaker has no row.
        """
        CREATE TABLE circuit_breakers (
            type        TEXT    NOT NULL,
            worker_id   TEXT    NOT NULL,
            state       TEXT    NOT NULL CHECK (state IN ('open','half_open')),
            failures    INTEGER NOT NULL CHECK (failures >= 0),
            opened_at   INTEGER NOT NULL,
            reset_at    INTEGER,
            updated_at  INTEGER NOT NULL,
            PRIMARY KEY (type, worker_id),
            CHECK (worker_id <> '' OR (state = 'open' AND reset_at IS NULL))
        ) WITHOUT ROWID;
        CREATE INDEX circuit_breakers_worker ON circuit_breakers (worker_id);
        """,
        // 5: per-queue defaults (PUT /queues/{q}/policy), applied at enqueue to jobs that do not set their own, and the
        // queue's retention. NULL: no default of the queue's own for that field.
        """
        ALTER TABLE queues ADD COLUMN max_attempts INTEGER CHECK (max_attempts IS NULL OR max_attempts BETWEEN 1 AND 1000);
        ALTER TABLE queues ADD COLUMN backoff TEXT CHECK (backoff IS NULL OR backoff <> '');
        ALTER TABLE queues ADD COLUMN timeout_ms INTEGER CHECK (timeout_ms IS NULL OR timeout_ms > 0);
        ALTER TABLE queues ADD COLUMN retention_ms INTEGER CHECK (retention_ms IS NULL OR retention_ms >= 0);
        """,
        // 6: live and history tables. jobs keeps only the states that can still change, with the indexes leasing, promotion,
        // reclaim, expiry and live keys need; a job reaching a terminal state moves to job_history in the same transaction
        // (SqliteSql.Move), where listings, counts and retention read it. Ids stay one sequence: job_history takes the id the
        // row had, and jobs' AUTOINCREMENT never reuses one, even after its largest id has moved out.
        // job_dependencies is rebuilt without its foreign key first: with foreign_keys = ON, moving a job out of jobs would
        // have cascaded to its edges. Purge and delete remove edges themselves now.
        $"""
        CREATE TABLE job_dependencies_v6 (
            job_id    INTEGER NOT NULL,
            parent_id INTEGER NOT NULL,
            PRIMARY KEY (job_id, parent_id)
        ) WITHOUT ROWID;
        INSERT INTO job_dependencies_v6 (job_id, parent_id) SELECT job_id, parent_id FROM job_dependencies;
        DROP TABLE job_dependencies;
        ALTER TABLE job_dependencies_v6 RENAME TO job_dependencies;
        CREATE INDEX job_dependencies_parent ON job_dependencies (parent_id);

        CREATE TABLE job_history (
            id               INTEGER PRIMARY KEY,
            queue            TEXT    NOT NULL,
            type             TEXT    NOT NULL,
            payload          TEXT    NOT NULL,
            priority         INTEGER NOT NULL DEFAULT 0,
            state            TEXT    NOT NULL CHECK (state IN {TerminalStates}),
            run_at           INTEGER NOT NULL,
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL,
            max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
            timeout_ms       INTEGER NOT NULL CHECK (timeout_ms > 0),
            backoff          TEXT    NOT NULL,
            key              TEXT,
            expires_at       INTEGER,
            attempt          INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            lease_epoch      INTEGER NOT NULL DEFAULT 0 CHECK (lease_epoch >= 0),
            lease_owner      TEXT,
            lease_expires_at INTEGER,
            progress         INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
            checkpoint       TEXT,
            result           TEXT,
            errors           TEXT    NOT NULL DEFAULT '[]',
            trace_parent     TEXT,
            reason           TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
            started_at       INTEGER,
            finished_at      INTEGER CHECK (finished_at IS NOT NULL),
            lost_leases      INTEGER NOT NULL DEFAULT 0 CHECK (lost_leases >= 0)
        );
        CREATE INDEX job_history_queue_state ON job_history (queue, state, id);
        CREATE INDEX job_history_finished    ON job_history (state, finished_at);
        CREATE INDEX job_history_key         ON job_history (key, id) WHERE key IS NOT NULL;

        DROP INDEX jobs_finished;
        DROP INDEX jobs_key;
        DROP INDEX jobs_queue;
        DROP INDEX jobs_state;
        DROP INDEX jobs_live_key;
        DROP INDEX jobs_expires;

        INSERT INTO job_history ({HistoryColumns}) SELECT {HistoryColumns} FROM jobs WHERE state IN {TerminalStates};
        DELETE FROM jobs WHERE state IN {TerminalStates};

        -- Every row of jobs is live now: predicates without state are not re-evaluated when a lease or finish changes it.
        CREATE UNIQUE INDEX jobs_live_key ON jobs (key) WHERE key IS NOT NULL;
        CREATE INDEX jobs_expires ON jobs (expires_at) WHERE expires_at IS NOT NULL;
        """,
    ];

    internal static int CurrentVersion => Migrations.Length;

    /// <summary>Brings the file to <see cref="CurrentVersion"/>; refuses a file written by a newer Bulwark.</summary>
    internal static void Migrate(SqliteConnection connection, string path) => Migrate(connection, path, Migrations);

    /// <summary>Applies <paramref name="migrations"/>, one transaction each; tests pass a list with a broken last entry.</summary>
    internal static void Migrate(SqliteConnection connection, string path, IReadOnlyList<string> migrations)
    {
        var version = ReadVersion(connection);
        ThrowIfNewer(version, path, migrations.Count);
        while (version < migrations.Count)
        {
            // BEGIN IMMEDIATE takes the write lock first, so two processes opening a fresh file migrate it once.
            Execute(connection, "BEGIN IMMEDIATE");
            try
            {
                version = ReadVersion(connection);
                ThrowIfNewer(version, path, migrations.Count);
                if (version < migrations.Count)
                {
                    Execute(connection, migrations[version]);
                    Execute(connection, $"PRAGMA user_version = {version + 1}");
                }

                Execute(connection, "COMMIT");
            }
            catch
            {
                Execute(connection, "ROLLBACK");
                throw;
            }

            version = ReadVersion(connection);
        }
    }

    internal static int ReadVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void ThrowIfNewer(int version, string path, int known)
    {
        if (version > known)
        {
            throw new InvalidOperationException(
                $"The job store '{path}' has schema version {version}, but this Bulwark knows versions up to {known}. " +
                "It was written by a newer Bulwark: upgrade this process (or restore a backup made by this version). The file was not changed.");
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
