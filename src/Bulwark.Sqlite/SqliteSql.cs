namespace Bulwark.Sqlite;

/// <summary>Statements whose query plans the tests check with <c>EXPLAIN QUERY PLAN</c>.</summary>
internal static class SqliteSql
{
    /// <summary>The lease candidates of one queue: served by the partial index <c>jobs_ready</c>.</summary>
    internal const string LeaseCandidates =
        "SELECT id FROM jobs WHERE state = 'ready' AND queue = @queue AND (expires_at IS NULL OR expires_at > @now) {0} " +
        "ORDER BY priority DESC, run_at, id LIMIT @limit";

    internal const string LeaseOne =
        "UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_epoch = lease_epoch + 1, lease_owner = @owner, " +
        "lease_expires_at = @expires, started_at = @now, updated_at = @now, progress = progress " +
        "WHERE id = @id AND state = 'ready' RETURNING " + JobRow.Columns;

    internal const string PromoteDueForQueues =
        "UPDATE jobs SET state = 'ready', updated_at = @now WHERE state = 'scheduled' AND run_at <= @now AND queue IN ({0})";

    internal const string PromoteDue = "UPDATE jobs SET state = 'ready', updated_at = @now WHERE state = 'scheduled' AND run_at <= @now";

    internal const string FindLiveKey = "SELECT id FROM jobs WHERE key = @key AND state IN " + SqliteSchema.LiveStates;

    internal const string FindNewestKey = "SELECT " + JobRow.Columns + " FROM jobs WHERE key = @key ORDER BY id DESC LIMIT 1";

    internal const string ListAll = "SELECT " + JobRow.Columns + " FROM jobs WHERE id < @before ORDER BY id DESC LIMIT @limit";
    internal const string ListByQueue = "SELECT " + JobRow.Columns + " FROM jobs WHERE queue = @queue AND id < @before ORDER BY id DESC LIMIT @limit";
    internal const string ListByState = "SELECT " + JobRow.Columns + " FROM jobs WHERE state = @state AND id < @before ORDER BY id DESC LIMIT @limit";
    internal const string ListByQueueAndState = "SELECT " + JobRow.Columns + " FROM jobs WHERE queue = @queue AND state = @state AND id < @before ORDER BY id DESC LIMIT @limit";

    internal const string CountByQueueAndState = "SELECT queue, state, count(*) FROM jobs GROUP BY queue, state";

    internal const string OldestReady = "SELECT min(run_at) FROM jobs WHERE state = 'ready' AND queue = @queue";

    internal const string Stalled = "SELECT " + JobRow.Columns + " FROM jobs WHERE state = 'running' AND lease_expires_at <= @now ORDER BY lease_expires_at LIMIT @limit";

    internal const string PurgeCandidates = "SELECT id FROM jobs WHERE state = @state AND finished_at < @cutoff LIMIT @limit";

    internal const string Expiring = "SELECT id, state FROM jobs WHERE expires_at <= @now AND state IN " + SqliteSchema.LiveStates;
}
