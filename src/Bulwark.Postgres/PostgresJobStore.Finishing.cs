using Bulwark.Jobs;
using Bulwark.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Bulwark.Postgres;

public sealed partial class PostgresJobStore
{
    /// <summary>
    /// Applies a batch of outcomes (each job once in the batch) in one statement, each row fenced by its token as the
    /// one-job statement would be: jobs whose outcome ends them move to job_history (<c>moved</c>/<c>finished</c>), the
    /// others (retry, release) are updated in place; the two guards exclude each other, so no row is written twice. Returns
    /// the id of every row written, its queue, its new state, and whether a pending job waits on it (so dependents are
    /// resolved only where there are any).
    /// A job whose cancellation was requested ends cancelled whatever unsuccessful outcome arrives (cancel wins; the
    /// attempt's error is kept); a completion still completes. <c>{state}</c> is that effective state.
    /// </summary>
    internal static readonly string FinishSetSql = ("WITH " + JobMoves.ToHistoryCtes(
        where: "j.id = o.id AND j.state = 'running' AND j.lease_epoch = o.epoch AND {state} IN ('completed','failed','dead_letter','cancelled')",
        set: new Dictionary<string, string>
        {
            ["state"] = "{m.state}",
            ["result"] = "CASE WHEN {m.state} = 'completed' THEN m.o_result ELSE m.result END",
            ["reason"] = "CASE WHEN m.o_state <> {m.state} THEN @cancelled_reason WHEN {m.state} <> 'completed' THEN m.o_reason ELSE m.reason END",
            ["errors"] = "CASE WHEN m.o_error IS NULL THEN m.errors ELSE m.errors || m.o_error::jsonb END",
        },
        returning: "job_history.id, job_history.queue, job_history.state, EXISTS (SELECT 1 FROM {s}.jobs ch WHERE ch.state = 'pending' AND ch.depends_on @> ARRAY[job_history.id])",
        from: "USING unnest(@ids, @epochs, @states, @results, @reasons, @delays, @errors) AS o(id, epoch, state, result, reason, delay, error)",
        extra: "o.state AS o_state, o.result AS o_result, o.reason AS o_reason, o.error AS o_error") + """
        , updated AS (
            UPDATE {s}.jobs j
            SET state = {state},
                run_at = CASE WHEN {state} = 'scheduled' THEN @now + o.delay ELSE j.run_at END,
                attempt = CASE WHEN {state} = 'ready' THEN greatest(j.attempt - 1, 0) ELSE j.attempt END,
                errors = CASE WHEN o.error IS NULL THEN j.errors ELSE j.errors || o.error::jsonb END,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
            FROM unnest(@ids, @epochs, @states, @results, @reasons, @delays, @errors) AS o(id, epoch, state, result, reason, delay, error)
            WHERE j.id = o.id AND j.state = 'running' AND j.lease_epoch = o.epoch AND {state} IN ('scheduled','ready')
            RETURNING j.id, j.queue, j.state, false)
        SELECT * FROM finished UNION ALL SELECT * FROM updated
        """)
        .Replace("{state}", "(CASE WHEN j.cancel_requested AND o.state <> 'completed' THEN 'cancelled' ELSE o.state END)", StringComparison.Ordinal)
        .Replace("{m.state}", "(CASE WHEN m.cancel_requested AND m.o_state <> 'completed' THEN 'cancelled' ELSE m.o_state END)", StringComparison.Ordinal);

    private const string CancelledWhileRunning = "Cancelled by a user while it ran.";

    /// <summary>
    /// The finish looks up each finished job's pending dependents (the EXISTS of <see cref="FinishSetSql"/>) and must do
    /// it through the partial GIN index. On a small live table the planner prefers a sequential scan, and the statement is
    /// auto-prepared: the generic plan PostgreSQL keeps after a few runs was made while the table was small and went on
    /// scanning the whole (churning, dead-row-laden) table once per finished job as it grew — auto_explain during the
    /// 1,000 jobs/s latency run showed finishes of 30–325 ms, and pickup p99 rose to seconds. Only for this statement:
    /// elsewhere a scan is the right plan (reclaim reads the running rows by owner, and with scans off for the whole
    /// writer it chose a plan that took over a second).
    /// </summary>
    private const string IndexScansOnly = "SET LOCAL enable_seqscan = off";

    private const string AnyScans = "RESET enable_seqscan";

    /// <inheritdoc />
    public Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        foreach (var outcome in outcomes)
        {
            ArgumentNullException.ThrowIfNull(outcome);
            if (outcome.Kind != OutcomeKind.Complete && outcome.Error is null)
            {
                throw new ArgumentException($"A {outcome.Kind} outcome for job {outcome.Token} needs its error record.", nameof(outcomes));
            }

            if (outcome.Kind == OutcomeKind.Retry && outcome.RetryDelay < TimeSpan.Zero)
            {
                throw new ArgumentException($"The retry delay of job {outcome.Token} is negative ({outcome.RetryDelay}).", nameof(outcomes));
            }

            _ = StateAfter(outcome.Kind);
        }

        if (outcomes.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<FenceResult>>([]);
        }

        return WriteAsync<IReadOnlyList<FenceResult>>(async (c, tx, ct) =>
        {
            var results = new FenceResult[outcomes.Count];
            var resolve = new List<long>();
            var ready = new List<string>();

            // Every outcome is fenced and written in one statement; a job named twice in one batch must see its first
            // outcome before its second, so those go one by one.
            var seen = new Dictionary<long, int>(outcomes.Count);
            foreach (var outcome in outcomes)
            {
                seen[outcome.Token.JobId] = seen.GetValueOrDefault(outcome.Token.JobId) + 1;
            }

            var set = new List<int>(outcomes.Count);
            var single = new List<int>();
            for (var i = 0; i < outcomes.Count; i++)
            {
                (seen[outcomes[i].Token.JobId] == 1 ? set : single).Add(i);
            }

            if (set.Count > 0)
            {
                await FinishSetAsync(c, tx, outcomes, set, results, resolve, ready, ct);
            }

            // A job named twice goes through the same statement, one outcome at a time, so the second sees the first.
            foreach (var i in single)
            {
                await FinishSetAsync(c, tx, outcomes, [i], results, resolve, ready, ct);
            }

            if (resolve.Count > 0)
            {
                await ResolveDependentsAsync(c, tx, [.. resolve], null, ct);
            }

            await NotifyAsync(c, tx, ready, ct);
            return results;
        }, cancellationToken);
    }

    private async Task FinishSetAsync(
        NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<JobOutcome> outcomes, List<int> set, FenceResult[] results, List<long> resolve, List<string> ready, CancellationToken ct)
    {
        var n = set.Count;
        var ids = new long[n];
        var epochs = new long[n];
        var states = new string[n];
        var values = new string?[n];
        var reasons = new string?[n];
        var delays = new TimeSpan[n];
        var errors = new string?[n];
        for (var k = 0; k < n; k++)
        {
            var outcome = outcomes[set[k]];
            ids[k] = outcome.Token.JobId;
            epochs[k] = outcome.Token.Epoch;
            states[k] = StateAfter(outcome.Kind).ToName();
            values[k] = outcome.Result;
            reasons[k] = outcome.Reason ?? outcome.Error?.Message;
            delays[k] = outcome.RetryDelay;
            errors[k] = outcome.Error is null ? null : JobRows.SerializeErrors(outcome.Error);
        }

        var written = new bool[n];
        var position = new Dictionary<long, int>(n);
        for (var k = 0; k < n; k++)
        {
            position[ids[k]] = k;
        }

        await using (var batch = new NpgsqlBatch(c, tx))
        {
            var update = BatchCommand(FinishSetSql);
            batch.BatchCommands.Add(BatchCommand(IndexScansOnly));
            batch.BatchCommands.Add(update);
            batch.BatchCommands.Add(BatchCommand(AnyScans));
            Add(update, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, ids);
            Add(update, "epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint, epochs);
            Add(update, "states", NpgsqlDbType.Array | NpgsqlDbType.Text, states);
            Add(update, "results", NpgsqlDbType.Array | NpgsqlDbType.Text, values);
            Add(update, "reasons", NpgsqlDbType.Array | NpgsqlDbType.Text, reasons);
            Add(update, "delays", NpgsqlDbType.Array | NpgsqlDbType.Interval, delays);
            Add(update, "errors", NpgsqlDbType.Array | NpgsqlDbType.Text, errors);
            Add(update, "cancelled_reason", NpgsqlDbType.Text, CancelledWhileRunning);
            // The reader passes over the two settings, which return no rows.
            await using var reader = await batch.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var k = position[reader.GetInt64(0)];
                written[k] = true;
                results[set[k]] = FenceResult.Ok;
                if (reader.GetBoolean(3))
                {
                    resolve.Add(ids[k]);
                }
                else if (reader.GetString(2) == "ready")
                {
                    ready.Add(reader.GetString(1));
                }
            }
        }

        var refused = new List<long>();
        for (var k = 0; k < n; k++)
        {
            if (!written[k])
            {
                refused.Add(ids[k]);
            }
        }

        if (refused.Count == 0)
        {
            return;
        }

        // Nothing else writes inside the writer's transaction, so the rows the fence passed over still say why.
        var found = new Dictionary<long, string>();
        await using (var select = Command(c, tx, $"SELECT id, state FROM {JobMoves.AllJobs} AS j WHERE id = ANY(@ids)"))
        {
            Add(select, "ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, refused.ToArray());
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                found[reader.GetInt64(0)] = reader.GetString(1);
            }
        }

        for (var k = 0; k < n; k++)
        {
            if (!written[k])
            {
                results[set[k]] = Refusal(found.TryGetValue(ids[k], out var state) ? state : null);
            }
        }
    }

    private static JobState StateAfter(OutcomeKind kind) => kind switch
    {
        OutcomeKind.Complete => JobState.Completed,
        OutcomeKind.Retry => JobState.Scheduled,
        OutcomeKind.Fail => JobState.Failed,
        OutcomeKind.DeadLetter => JobState.DeadLetter,
        OutcomeKind.Release => JobState.Ready,
        OutcomeKind.Cancelled => JobState.Cancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown outcome kind."),
    };

    /// <summary>Why a fenced write matched no row, from the job's state (null: no such job).</summary>
    private static FenceResult Refusal(string? state) => state switch
    {
        null => FenceResult.NotFound,

        // Not running wins over a stale epoch: only a running job can be "owned by someone else".
        "running" => FenceResult.LeaseLost,
        _ => FenceResult.NotRunning,
    };
}
