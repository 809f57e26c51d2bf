namespace Bulwark.Sqlite;

/// <summary>Statements whose query plans the tests check with <c>EXPLAIN QUERY PLAN</c>.</summary>
internal static class SqliteSql
{
    // INDEXED BY where the planner, lacking statistics, would pick the broader (state, id) index: the partial index
    // holds only due or expired rows, and a statement that can no longer use it fails to prepare instead of scanning.

    /// <summary>The ready lease candidates of one queue, in lease order: served by the partial index <c>jobs_ready</c>.</summary>
    internal const string LeaseCandidates =
        "SELECT id, priority, run_at FROM jobs WHERE state = 'ready' AND queue = @queue AND (expires_at IS NULL OR expires_at > @now) {0} " +
        "ORDER BY priority DESC, run_at, id LIMIT @limit";

    /// <summary>Due scheduled jobs of one queue, which count as ready: only due rows of <c>jobs_scheduled</c> are read.</summary>
    internal const string LeaseDueCandidates =
        "SELECT id, priority, run_at FROM jobs INDEXED BY jobs_scheduled WHERE state = 'scheduled' AND run_at <= @now AND queue = @queue " +
        "AND (expires_at IS NULL OR expires_at > @now) {0} ORDER BY priority DESC, run_at, id LIMIT @limit";

    /// <summary>
    /// Leases up to @limit jobs of one queue in one statement: the ready and the due scheduled candidates (each read in
    /// lease order from its partial index) are merged, and the chosen rows updated by primary key. A due scheduled job is
    /// promoted and leased at once. Format with the type filter of <see cref="LeaseCandidates"/>. RETURNING has no
    /// order: the caller sorts by (priority DESC, run_at, id). Returns the columns of <see cref="JobRow.ReadLeased"/>.
    /// </summary>
    /// <remarks>NOT INDEXED: otherwise the planner may OR scans of other indexes instead of looking up the chosen ids.</remarks>
    internal const string LeaseQueue =
        "UPDATE jobs NOT INDEXED SET state = 'running', attempt = attempt + 1, lease_epoch = lease_epoch + 1, lease_owner = @owner, " +
        "lease_expires_at = @expires, started_at = @now, updated_at = @now " +
        "WHERE id IN (SELECT id FROM (SELECT * FROM (" + LeaseCandidates + ") UNION ALL SELECT * FROM (" + LeaseDueCandidates + ")) " +
        "ORDER BY priority DESC, run_at, id LIMIT @limit) " +
        "AND (state = 'ready' OR (state = 'scheduled' AND run_at <= @now)) RETURNING " + JobRow.LeasedColumns;

    /// <summary>
    /// Completes (no result) the given jobs whose lease still holds, in one statement: @tokens is a JSON array of
    /// [id, epoch] pairs, and a row changes only while it runs under that epoch — the same fence as the guarded UPDATE
    /// of one outcome. Returns the completed ids and whether each has dependents to resolve.
    /// </summary>
    internal const string CompleteMany =
        "UPDATE jobs NOT INDEXED SET state = 'completed', result = NULL, finished_at = @now, lease_owner = NULL, lease_expires_at = NULL, updated_at = @now " +
        "FROM (SELECT value ->> 0 AS id, value ->> 1 AS epoch FROM json_each(@tokens)) AS t " +
        "WHERE jobs.id = t.id AND jobs.state = 'running' AND jobs.lease_epoch = t.epoch " +
        "RETURNING jobs.id, EXISTS (SELECT 1 FROM job_dependencies WHERE parent_id = jobs.id)";

    internal const string PromoteDue = "UPDATE jobs INDEXED BY jobs_scheduled SET state = 'ready', updated_at = @now WHERE state = 'scheduled' AND run_at <= @now";

    internal const string FindLiveKey = "SELECT id FROM jobs WHERE key = @key AND state IN " + SqliteSchema.LiveStates;

    internal const string FindNewestKey = "SELECT " + JobRow.Columns + " FROM jobs WHERE key = @key ORDER BY id DESC LIMIT 1";

    internal const string ListAll = "SELECT " + JobRow.Columns + " FROM jobs WHERE id < @before ORDER BY id DESC LIMIT @limit";
    internal const string ListByQueue = "SELECT " + JobRow.Columns + " FROM jobs WHERE queue = @queue AND id < @before ORDER BY id DESC LIMIT @limit";

    /// <summary>A page of jobs in one of the cold states (<see cref="SqliteSchema.ColdStates"/>), from the partial <c>jobs_state</c>.</summary>
    /// <remarks>The IN term repeats the index's predicate word for word: that is how SQLite sees the partial index applies.</remarks>
    internal const string ListByColdState =
        "SELECT " + JobRow.Columns + " FROM jobs INDEXED BY jobs_state WHERE state IN " + SqliteSchema.ColdStates +
        " AND state = @state AND id < @before ORDER BY id DESC LIMIT @limit";

    /// <summary>Every queue name that has jobs, by a loose index scan: one index seek per queue, not a read of every job.</summary>
    internal const string QueueNames =
        "WITH RECURSIVE q(name) AS (SELECT (SELECT min(queue) FROM jobs) UNION ALL " +
        "SELECT (SELECT min(queue) FROM jobs WHERE queue > q.name) FROM q WHERE q.name IS NOT NULL) SELECT name FROM q WHERE name IS NOT NULL";

    /// <summary>The newest ids of one queue in one state below the cursor, from the covering <c>jobs_queue_state</c>.</summary>
    internal const string IdsByQueueAndState =
        "SELECT id FROM jobs WHERE queue = @queue AND state = @state AND id < @before ORDER BY id DESC LIMIT @limit";

    /// <summary>The rows of the given ids (a JSON array), newest first.</summary>
    internal const string JobsByIds =
        "SELECT " + JobRow.Columns + " FROM jobs NOT INDEXED WHERE id IN (SELECT value FROM json_each(@ids)) ORDER BY id DESC";
    internal const string ListByQueueAndState = "SELECT " + JobRow.Columns + " FROM jobs WHERE queue = @queue AND state = @state AND id < @before ORDER BY id DESC LIMIT @limit";

    internal const string CountByQueueAndState = "SELECT queue, state, count(*) FROM jobs GROUP BY queue, state";

    internal const string OldestReady = "SELECT min(run_at) FROM jobs WHERE state = 'ready' AND queue = @queue";

    internal const string Stalled = "SELECT " + JobRow.Columns + " FROM jobs INDEXED BY jobs_running WHERE state = 'running' AND lease_expires_at <= @now ORDER BY lease_expires_at LIMIT @limit";

    internal const string ExpiredLeases = "SELECT id FROM jobs INDEXED BY jobs_running WHERE state = 'running' AND lease_expires_at <= @now";

    internal const string CountRunningOfOwner = "SELECT count(*) FROM jobs INDEXED BY jobs_running WHERE state = 'running' AND lease_owner = @owner";

    internal const string RunningOfOwner = "SELECT id FROM jobs INDEXED BY jobs_running WHERE state = 'running' AND lease_owner = @owner";

    /// <summary>Running jobs left by earlier registrations of a worker name on a host (a restart with the same name).</summary>
    internal const string RunningOfPredecessors =
        "SELECT id FROM jobs INDEXED BY jobs_running WHERE state = 'running' AND lease_owner IN " +
        "(SELECT id FROM workers WHERE name = @name AND host = @host AND id <> @id)";

    /// <summary>Stopped and dead registrations silent since before the cutoff, unless they still own a running job.</summary>
    internal const string PurgeWorkers =
        "DELETE FROM workers WHERE state IN ('stopped', 'dead') AND heartbeat_at < @cutoff " +
        "AND NOT EXISTS (SELECT 1 FROM jobs INDEXED BY jobs_running WHERE state = 'running' AND lease_owner = workers.id)";

    /// <summary>Running jobs of one queue, for its concurrency limit.</summary>
    internal const string CountRunningOfQueue = "SELECT count(*) FROM jobs WHERE queue = @queue AND state = 'running'";

    internal const string DeadLettersOfQueue = "SELECT id FROM jobs WHERE queue = @queue AND state = 'dead_letter' ORDER BY id";

    internal const string PurgeCandidates = "SELECT id FROM jobs WHERE state = @state AND finished_at < @cutoff LIMIT @limit";

    /// <summary>Purge candidates of one queue with its own retention (<c>RetentionPolicy.Queues</c>).</summary>
    internal const string PurgeCandidatesOfQueue = "SELECT id FROM jobs WHERE state = @state AND queue = @queue AND finished_at < @cutoff LIMIT @limit";

    internal const string Expiring = "SELECT id, state FROM jobs INDEXED BY jobs_expires WHERE expires_at <= @now AND state IN " + SqliteSchema.LiveStates;
}
