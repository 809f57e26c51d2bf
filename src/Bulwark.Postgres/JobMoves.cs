namespace Bulwark.Postgres;

/// <summary>
/// SQL that moves a job between the live table (<c>jobs</c>: pending, scheduled, ready, running) and <c>job_history</c>
/// (terminal states) in one statement: <c>WITH moved AS (DELETE … RETURNING …) INSERT INTO …</c>. The DELETE carries the
/// transition's guard (state, epoch), so a stale outcome deletes nothing and so inserts nothing. The job keeps its id.
/// </summary>
internal static class JobMoves
{
    /// <summary>The columns both tables share, in table order (job_history is created <c>LIKE jobs</c>).</summary>
    private static readonly string[] Names =
    [
        "id", "queue", "type", "payload", "priority", "state", "run_at", "created_at", "updated_at", "max_attempts", "timeout_ticks",
        "backoff", "key", "depends_on", "expires_at", "attempt", "lease_epoch", "lease_owner", "lease_expires_at", "progress",
        "checkpoint", "result", "errors", "trace_parent", "reason", "cancel_requested", "started_at", "finished_at", "lost_leases",
    ];

    private static readonly string NameList = string.Join(", ", Names);

    /// <summary>
    /// Both tables as one row source, for reads that do not know where a job is. A plain UNION ALL of columns, so the planner
    /// pushes <c>WHERE id = …</c> into both and answers <c>ORDER BY id DESC LIMIT n</c> with a Merge Append of the two primary
    /// keys instead of sorting every row.
    /// </summary>
    public static readonly string AllJobs = $"(SELECT {NameList} FROM {{s}}.jobs UNION ALL SELECT {NameList} FROM {{s}}.job_history)";

    /// <summary>
    /// Moves the live rows <c>j</c> matching <paramref name="where"/> to job_history with <paramref name="set"/> applied
    /// (expressions over <c>m</c>, the deleted row). A lease ends with the move and
    /// finished_at is now unless <paramref name="set"/> says otherwise. <paramref name="returning"/> reads the inserted row.
    /// </summary>
    public static string ToHistory(string where, IReadOnlyDictionary<string, string> set, string returning) =>
        $"WITH {ToHistoryCtes(where, set, returning)} SELECT * FROM finished";

    /// <summary>
    /// <see cref="ToHistory"/> as two CTEs, <c>moved</c> and <c>finished</c> (the inserted rows' <paramref name="returning"/>),
    /// for a statement that also updates the live rows its move leaves (the two guards must exclude each other).
    /// <paramref name="from"/> is a USING list for the DELETE; <paramref name="extra"/> adds its columns to <c>m</c>.
    /// </summary>
    public static string ToHistoryCtes(string where, IReadOnlyDictionary<string, string> set, string returning, string from = "", string extra = "") =>
        Move("jobs", "job_history", "", from, where, WithDefaults(set, ("finished_at", "@now"), ("lease_owner", "NULL"), ("lease_expires_at", "NULL")), returning, extra);

    /// <summary>
    /// Moves the history rows <c>j</c> matching <paramref name="where"/> back to the live table under the same id (the
    /// identity column needs <c>OVERRIDING SYSTEM VALUE</c>; the sequence is above every id it ever gave, so no later job
    /// collides with it).
    /// </summary>
    public static string ToLive(string where, IReadOnlyDictionary<string, string> set, string returning) =>
        $"WITH {Move("job_history", "jobs", "OVERRIDING SYSTEM VALUE", "", where, WithDefaults(set, ("finished_at", "NULL")), returning, "")} SELECT * FROM finished";

    private static Dictionary<string, string> WithDefaults(IReadOnlyDictionary<string, string> set, params (string Name, string Sql)[] defaults)
    {
        var all = new Dictionary<string, string>(set, StringComparer.Ordinal);
        all.TryAdd("updated_at", "@now");
        foreach (var (name, sql) in defaults)
        {
            all.TryAdd(name, sql);
        }

        return all;
    }

    private static string Move(string source, string target, string overriding, string from, string where, Dictionary<string, string> set, string returning, string extra)
    {
        foreach (var name in set.Keys)
        {
            if (Array.IndexOf(Names, name) < 0)
            {
                throw new ArgumentException($"'{name}' is not a job column.", nameof(set));
            }
        }

        var values = string.Join(", ", Names.Select(n => set.TryGetValue(n, out var sql) ? sql : "m." + n));
        var extraColumns = extra.Length == 0 ? "" : ", " + extra;
        return $"""
            moved AS (DELETE FROM {"{s}"}.{source} j {from} WHERE {where} RETURNING j.*{extraColumns}),
            finished AS (
                INSERT INTO {"{s}"}.{target} ({NameList}) {overriding}
                SELECT {values} FROM moved m
                RETURNING {returning})
            """;
    }
}
