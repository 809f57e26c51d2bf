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
    /// Completes (no result) the given jobs whose lease still holds, set-wise, by moving them to <c>job_history</c>:
    /// @tokens is a JSON array of [id, epoch] pairs, and a row moves only while it runs under that epoch — the same fence
    /// as the guarded statement of one outcome. Returns the completed ids and whether each has dependents to resolve;
    /// <see cref="CompleteManyDelete"/> then removes the same rows from <c>jobs</c> under the same fence.
    /// </summary>
    internal static readonly string CompleteMany =
        "INSERT INTO job_history (" + JobRow.Columns + ") SELECT " +
        Moved("state = 'completed', result = NULL, finished_at = @now, lease_owner = NULL, lease_expires_at = NULL, updated_at = @now", "j.") +
        " " + CompleteManyFence + " RETURNING id, EXISTS (SELECT 1 FROM job_dependencies WHERE parent_id = job_history.id)";

    /// <summary>The second half of <see cref="CompleteMany"/>: the fenced rows leave <c>jobs</c>.</summary>
    internal const string CompleteManyDelete = "DELETE FROM jobs WHERE id IN (SELECT j.id " + CompleteManyFence + ")";

    // CROSS JOIN keeps json_each outside: each token is one primary-key lookup.
    private const string CompleteManyFence =
        "FROM json_each(@tokens) AS t CROSS JOIN jobs AS j WHERE j.id = t.value ->> 0 AND j.state = 'running' AND j.lease_epoch = t.value ->> 1";

    internal const string PromoteDue = "UPDATE jobs INDEXED BY jobs_scheduled SET state = 'ready', updated_at = @now WHERE state = 'scheduled' AND run_at <= @now";

    /// <summary>Every row of <c>jobs</c> is live (migration 6), so the live key is a plain lookup of <c>jobs_live_key</c>.</summary>
    internal const string FindLiveKey = "SELECT id FROM jobs WHERE key = @key";

    /// <summary>The newest finished job with the key, for when no live one holds it.</summary>
    internal const string FindNewestKey = "SELECT " + JobRow.Columns + " FROM job_history WHERE key = @key ORDER BY id DESC LIMIT 1";

    /// <summary>A job by id, from whichever table holds it (at most one does).</summary>
    internal const string JobById =
        "SELECT " + JobRow.Columns + " FROM jobs WHERE id = @id UNION ALL SELECT " + JobRow.Columns + " FROM job_history WHERE id = @id";

    /// <summary>A job's state and lease epoch, from whichever table holds it.</summary>
    internal const string StateById =
        "SELECT state, lease_epoch FROM jobs WHERE id = @id UNION ALL SELECT state, lease_epoch FROM job_history WHERE id = @id";

    /// <summary>
    /// The parents of a job that still exist, with their states, from either table: a purged parent no longer counts.
    /// </summary>
    internal const string ParentStates =
        "SELECT d.parent_id, coalesce(l.state, h.state) FROM job_dependencies d LEFT JOIN jobs l ON l.id = d.parent_id " +
        "LEFT JOIN job_history h ON h.id = d.parent_id WHERE d.job_id = @id AND (l.id IS NOT NULL OR h.id IS NOT NULL) ORDER BY d.parent_id";

    /// <summary>How many existing parents of a job have not completed: every live one, and the history ones that ended otherwise.</summary>
    internal const string WaitingParents =
        "SELECT (SELECT count(*) FROM job_dependencies d JOIN jobs p ON p.id = d.parent_id WHERE d.job_id = @child) + " +
        "(SELECT count(*) FROM job_dependencies d JOIN job_history p ON p.id = d.parent_id WHERE d.job_id = @child AND p.state <> 'completed')";

    /// <summary>The newest live ids below the cursor; <see cref="HistoryIdsBefore"/> the same of finished jobs.</summary>
    internal const string LiveIdsBefore = "SELECT id FROM jobs WHERE id < @before ORDER BY id DESC LIMIT @limit";

    internal static readonly string HistoryIdsBefore = OnHistory(LiveIdsBefore);

    /// <summary>Every queue name that has live jobs, by a loose index scan: one index seek per queue, not a read of every job.</summary>
    internal const string LiveQueueNames =
        "WITH RECURSIVE q(name) AS (SELECT (SELECT min(queue) FROM jobs) UNION ALL " +
        "SELECT (SELECT min(queue) FROM jobs WHERE queue > q.name) FROM q WHERE q.name IS NOT NULL) SELECT name FROM q WHERE name IS NOT NULL";

    internal static readonly string HistoryQueueNames = OnHistory(LiveQueueNames);

    /// <summary>The newest ids of one queue in one live state below the cursor, from the covering <c>jobs_queue_state</c>.</summary>
    internal const string IdsByQueueAndState =
        "SELECT id FROM jobs WHERE queue = @queue AND state = @state AND id < @before ORDER BY id DESC LIMIT @limit";

    internal static readonly string HistoryIdsByQueueAndState = OnHistory(IdsByQueueAndState);

    /// <summary>The rows of the given ids (a JSON array) from both tables, newest first.</summary>
    internal const string JobsByIds =
        "SELECT " + JobRow.Columns + " FROM jobs NOT INDEXED WHERE id IN (SELECT value FROM json_each(@ids)) UNION ALL " +
        "SELECT " + JobRow.Columns + " FROM job_history NOT INDEXED WHERE id IN (SELECT value FROM json_each(@ids)) ORDER BY id DESC";

    internal const string ListByQueueAndState = "SELECT " + JobRow.Columns + " FROM jobs WHERE queue = @queue AND state = @state AND id < @before ORDER BY id DESC LIMIT @limit";

    internal static readonly string HistoryListByQueueAndState = OnHistory(ListByQueueAndState);

    internal const string CountByQueueAndState =
        "SELECT queue, state, count(*) FROM jobs GROUP BY queue, state UNION ALL SELECT queue, state, count(*) FROM job_history GROUP BY queue, state";

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

    internal const string DeadLettersOfQueue = "SELECT id FROM job_history WHERE queue = @queue AND state = 'dead_letter' ORDER BY id";

    internal const string PurgeCandidates = "SELECT id FROM job_history WHERE state = @state AND finished_at < @cutoff LIMIT @limit";

    /// <summary>Purge candidates of one queue with its own retention (<c>RetentionPolicy.Queues</c>).</summary>
    internal const string PurgeCandidatesOfQueue = "SELECT id FROM job_history WHERE state = @state AND queue = @queue AND finished_at < @cutoff LIMIT @limit";

    /// <summary><c>expires_at &lt;= @now</c> implies the partial index's <c>expires_at IS NOT NULL</c>.</summary>
    internal const string Expiring = "SELECT id, state FROM jobs INDEXED BY jobs_expires WHERE expires_at <= @now";

    /// <summary>
    /// The two statements that move rows from one table to the other (a terminal transition, or a retry back): copy the rows
    /// matching <paramref name="where"/> with <paramref name="set"/> applied (written as an UPDATE's SET list), then delete
    /// them under the same predicate. Inside the writer's transaction nothing writes between the two, so they move the
    /// same rows, and a predicate that fences (state, lease_epoch) moves nothing for a stale token.
    /// </summary>
    internal static (string Copy, string Delete) Move(string from, string to, string set, string where) =>
        ($"INSERT INTO {to} ({JobRow.Columns}) SELECT {Moved(set, "")} FROM {from} WHERE {where}", $"DELETE FROM {from} WHERE {where}");

    /// <summary>The SELECT list copying a row (columns prefixed by <paramref name="prefix"/>) with the SET list's columns replaced.</summary>
    private static string Moved(string set, string prefix)
    {
        var replaced = SplitSet(set).ToDictionary(a => a.Column, a => a.Value, StringComparer.Ordinal);
        var columns = JobRow.Columns.Split(", ");
        foreach (var column in replaced.Keys)
        {
            if (!columns.Contains(column, StringComparer.Ordinal))
            {
                throw new ArgumentException($"'{column}' is not a column of jobs.", nameof(set));
            }
        }

        return string.Join(", ", columns.Select(column => replaced.TryGetValue(column, out var value) ? value : prefix + column));
    }

    /// <summary>Splits "a = x, b = f(y, z)" at the commas outside parentheses and quotes.</summary>
    private static IEnumerable<(string Column, string Value)> SplitSet(string set)
    {
        var depth = 0;
        var quoted = false;
        var start = 0;
        for (var i = 0; i <= set.Length; i++)
        {
            var ch = i < set.Length ? set[i] : ',';
            if (ch == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && ch == '(')
            {
                depth++;
            }
            else if (!quoted && ch == ')')
            {
                depth--;
            }
            else if (!quoted && depth == 0 && ch == ',')
            {
                var assignment = set[start..i];
                var equals = assignment.IndexOf('=', StringComparison.Ordinal);
                if (assignment.Trim().Length > 0)
                {
                    yield return (assignment[..equals].Trim(), assignment[(equals + 1)..].Trim());
                }

                start = i + 1;
            }
        }
    }

    private static string OnHistory(string liveSql) => liveSql.Replace("FROM jobs", "FROM job_history", StringComparison.Ordinal);
}
