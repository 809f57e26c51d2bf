using System.Globalization;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

public sealed partial class SqliteJobStore
{
    private const string ClearLease = "lease_owner = NULL, lease_expires_at = NULL";
    private const string AppendError = "errors = json_insert(errors, '$[#]', json(@error))";
    private const string CancelledWhileRunning = "Cancelled by a user while it ran.";

    /// <summary>The fence of a running job's write: its lease still holds under the token's epoch.</summary>
    private const string RunningUnder = "id = @id AND state = 'running' AND lease_epoch = @epoch";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string From, string To, string Set, string Where), (string Copy, string Delete)> Moves = new();

    // Positional parameters: the insert is driven through RawStatement, bound by position (?7 is now, used twice).
    private const string InsertColumns =
        "INSERT INTO jobs (queue, type, payload, priority, state, run_at, created_at, updated_at, max_attempts, timeout_ms, backoff, key, " +
        "expires_at, trace_parent, reason, finished_at) VALUES ";

    private const string InsertJob = InsertColumns + "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

    /// <summary>Parameters per row of <see cref="InsertJob"/>.</summary>
    private const int InsertParameters = 15;

    /// <summary>Rows per multi-row insert: a run of plain jobs is inserted this many at a time.</summary>
    private const int InsertRows = 32;

    private static readonly string DefaultBackoffText = BackoffPolicy.Default.ToString();

    /// <summary>The multi-row insert for each run length (index = rows), built once.</summary>
    private static readonly string[] MultiRowInserts = [.. Enumerable.Range(0, InsertRows + 1).Select(rows => rows < 2 ? "" : MultiRowInsert(rows))];

    /// <inheritdoc />
    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateBatch(jobs);
        var snapshot = jobs.ToArray();
        return WriteAsync<IReadOnlyList<EnqueueResult>>(c => Enqueue(c, snapshot), cancellationToken);
    }

    private static EnqueueResult[] Enqueue(WriteContext c, NewJob[] jobs)
    {
        ApplyQueuePolicies(c, jobs);
        var results = new EnqueueResult[jobs.Length];
        for (var i = 0; i < jobs.Length; i++)
        {
            var job = jobs[i];
            var run = PlainRun(jobs, i);
            if (run > 1)
            {
                InsertPlain(c, jobs, i, run, results);
                i += run - 1;
                continue;
            }

            if (job.Key is not null && Scalar(c, SqliteSql.FindLiveKey, ("@key", job.Key)) is long existing)
            {
                results[i] = new EnqueueResult(existing, Deduplicated: true);
                continue;
            }

            var parents = new List<long>(job.DependsOn.Count + job.DependsOnBatchIndexes.Count);
            string? deadReason = null;
            var allCompleted = true;
            foreach (var parentId in job.DependsOn)
            {
                var state = Scalar(c, SqliteSql.StateById, ("@id", parentId)) as string
                    ?? throw new JobValidationException(
                        "depends_on",
                        $"{(jobs.Length > 1 ? $"Job {i} of the batch" : "The job")} depends on job {parentId}, which does not exist; enqueue the parent first or remove the dependency. Nothing was stored.",
                        JobValidationKind.UnknownReference);
                Judge(parentId, JobRow.ParseState(state));
            }

            foreach (var index in job.DependsOnBatchIndexes)
            {
                var parentId = results[index].Id;
                var state = (string)Scalar(c, SqliteSql.StateById, ("@id", parentId))!;
                Judge(parentId, JobRow.ParseState(state));
            }

            var runAt = job.RunAt is { } at ? JobRow.ToMs(at) : c.Now;
            var initial = deadReason is not null ? JobState.DeadLetter
                : parents.Count > 0 && !allCompleted ? JobState.Pending
                : runAt > c.Now ? JobState.Scheduled
                : JobState.Ready;
            if (initial == JobState.Ready)
            {
                c.Wake();
            }

            var insert = c.Raw(InsertJob);
            BindRow(insert, 0, job, initial, runAt, c.Now, deadReason);
            var id = insert.Insert();
            foreach (var parentId in parents.Distinct())
            {
                Execute(c, "INSERT INTO job_dependencies (job_id, parent_id) VALUES (@id, @parent)", ("@id", id), ("@parent", parentId));
            }

            if (initial.IsTerminal())
            {
                // Inserted into jobs for its id from the one sequence, then moved: a job dead on arrival is history at once.
                ToHistory(c, "", "id = @id", ("@id", id));
            }

            results[i] = new EnqueueResult(id, Deduplicated: false);

            void Judge(long parentId, JobState state)
            {
                parents.Add(parentId);
                if (state != JobState.Completed)
                {
                    allCompleted = false;
                }

                if (state.IsTerminal() && state != JobState.Completed)
                {
                    deadReason ??= $"dependency {parentId} ended {state.ToName()}";
                }
            }
        }

        return results;
    }

    /// <summary>How many jobs from <paramref name="start"/> on (at most <see cref="InsertRows"/>) are plain: no key, no dependencies.</summary>
    private static int PlainRun(NewJob[] jobs, int start)
    {
        var end = start;
        while (end < jobs.Length && end - start < InsertRows && jobs[end] is { Key: null, DependsOn.Count: 0, DependsOnBatchIndexes.Count: 0 })
        {
            end++;
        }

        return end - start;
    }

    /// <summary>
    /// Inserts a run of plain jobs with one multi-row statement: per-statement work (and the AUTOINCREMENT counter's
    /// write, once per statement) is shared by the run; measured at half the CPU of one statement per row.
    /// </summary>
    private static void InsertPlain(WriteContext c, NewJob[] jobs, int start, int count, EnqueueResult[] results)
    {
        var insert = c.Raw(MultiRowInserts[count]);
        var ids = new List<long>(count);
        try
        {
            for (var r = 0; r < count; r++)
            {
                var job = jobs[start + r];
                var runAt = job.RunAt is { } at ? JobRow.ToMs(at) : c.Now;
                if (runAt <= c.Now)
                {
                    c.Wake();
                }

                BindRow(insert, r * InsertParameters, job, runAt > c.Now ? JobState.Scheduled : JobState.Ready, runAt, c.Now, deadReason: null);
            }

            while (insert.Step())
            {
                ids.Add(insert.Int64(0));
            }
        }
        finally
        {
            insert.Reset();
        }

        // RETURNING promises no order, but AUTOINCREMENT gives each row a larger id than any before it, so ascending
        // ids follow the VALUES order.
        ids.Sort();
        for (var r = 0; r < count; r++)
        {
            results[start + r] = new EnqueueResult(ids[r], Deduplicated: false);
        }
    }

    private static string MultiRowInsert(int rows)
    {
        var sql = new System.Text.StringBuilder(InsertColumns, InsertColumns.Length + (rows * 90));
        for (var r = 0; r < rows; r++)
        {
            var p = r * InsertParameters;
            sql.Append(r == 0 ? "(" : ", (");
            for (var k = 1; k <= InsertParameters; k++)
            {
                // Column 8 (updated_at) repeats column 7 (created_at), as in InsertJob.
                sql.Append(k == 1 ? "" : ", ").Append('?').Append(p + k);
                if (k == 7)
                {
                    sql.Append(", ?").Append(p + k);
                }
            }

            sql.Append(')');
        }

        return sql.Append(" RETURNING id").ToString();
    }

    private static void BindRow(RawStatement insert, int offset, NewJob job, JobState initial, long runAt, long now, string? deadReason)
    {
        insert.Bind(offset + 1, job.Queue);
        insert.Bind(offset + 2, job.Type);
        insert.Bind(offset + 3, job.Payload ?? "null");
        insert.Bind(offset + 4, job.Priority);
        insert.Bind(offset + 5, initial.ToName());
        insert.Bind(offset + 6, runAt);
        insert.Bind(offset + 7, now);
        insert.Bind(offset + 8, job.MaxAttempts);
        insert.Bind(offset + 9, (long)job.Timeout.TotalMilliseconds);
        insert.Bind(offset + 10, ReferenceEquals(job.Backoff, BackoffPolicy.Default) ? DefaultBackoffText : job.Backoff.ToString());
        insert.Bind(offset + 11, job.Key);
        insert.Bind(offset + 12, job.ExpiresAt is { } e ? JobRow.ToMs(e) : null);
        insert.Bind(offset + 13, job.TraceParent);
        insert.Bind(offset + 14, deadReason);
        insert.Bind(offset + 15, deadReason is null ? null : now);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.WorkerId))
        {
            throw new ArgumentException("LeaseRequest.WorkerId is empty; pass the id the worker registered with.", nameof(request));
        }

        if (request.Max < 1)
        {
            throw new ArgumentException($"LeaseRequest.Max must be at least 1 (got {request.Max}); ask for the worker's free slots.", nameof(request));
        }

        if (request.LeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"LeaseRequest.LeaseDuration must be positive (got {request.LeaseDuration}).", nameof(request));
        }

        var queues = request.Queues.Distinct(StringComparer.Ordinal).ToArray();
        if (queues.Length == 0)
        {
            return Task.FromResult<IReadOnlyList<LeasedJob>>([]);
        }

        var excluded = request.ExcludedTypes.Distinct(StringComparer.Ordinal).ToArray();
        return WriteAsync<IReadOnlyList<LeasedJob>>(c => Lease(c, request, queues, excluded), cancellationToken);
    }

    private static List<LeasedJob> Lease(WriteContext c, LeaseRequest request, string[] queues, string[] excluded)
    {
        var typeFilter = excluded.Length == 0 ? "" : $"AND type NOT IN ({string.Join(", ", excluded.Select((_, i) => $"@t{i}"))})";
        var expires = c.Now + (long)request.LeaseDuration.TotalMilliseconds;
        var leased = new List<LeasedJob>(request.Max);
        foreach (var queue in queues)
        {
            var remaining = request.Max - leased.Count;
            if (remaining <= 0)
            {
                break;
            }

            var control = QueueControl.Read(c, queue);
            if (control.Paused)
            {
                continue;
            }

            remaining = control.Allowance(c, queue, remaining);
            if (remaining <= 0)
            {
                continue;
            }

            // One statement chooses and leases (B-tree work unchanged; statement, binding and row overhead paid once per
            // call), bound and read through the SQLite API: ADO.NET's reader cost a fifth of the lease (bench/store-ops).
            var lease = c.Raw(string.Format(CultureInfo.InvariantCulture, SqliteSql.LeaseQueue, typeFilter));
            var before = leased.Count;
            try
            {
                lease.Bind("@owner", request.WorkerId);
                lease.Bind("@expires", expires);
                lease.Bind("@now", c.Now);
                lease.Bind("@queue", queue);
                lease.Bind("@limit", remaining);
                for (var i = 0; i < excluded.Length; i++)
                {
                    lease.Bind($"@t{i}", excluded[i]);
                }

                while (lease.Step())
                {
                    leased.Add(JobRow.ReadLeased(lease, c.Backoff));
                }
            }
            finally
            {
                lease.Reset();
            }

            // RETURNING gives no order; hand the jobs out in lease order, as the candidates were chosen.
            leased.Sort(before, leased.Count - before, LeaseOrder.Instance);
            control.Charge(c, queue, leased.Count - before);
        }

        return leased;
    }

    /// <summary>Priority first, then earlier run_at, then lower id: the order jobs are chosen for a lease.</summary>
    private sealed class LeaseOrder : IComparer<LeasedJob>
    {
        internal static readonly LeaseOrder Instance = new();

        public int Compare(LeasedJob? x, LeasedJob? y) =>
            y!.Priority != x!.Priority ? y.Priority.CompareTo(x.Priority)
            : x.RunAt != y.RunAt ? x.RunAt.CompareTo(y.RunAt)
            : x.Token.JobId.CompareTo(y.Token.JobId);
    }

    /// <inheritdoc />
    public Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default)
    {
        ValidateWorker(worker);
        return WriteAsync(c =>
        {
            UpsertWorker(c, worker);
            var predecessors = Query(c,
                "SELECT id FROM workers WHERE name = @name AND host = @host AND id <> @id AND state IN ('active', 'draining')",
                r => r.GetString(0), ("@name", worker.Name), ("@host", worker.Host), ("@id", worker.Id));
            var result = new ReclaimBuilder();
            foreach (var dead in predecessors)
            {
                Execute(c, "UPDATE workers SET state = 'dead' WHERE id = @id", ("@id", dead));
                result.DeadWorkers.Add(dead);
            }

            var orphans = Query(c, SqliteSql.RunningOfPredecessors, r => r.GetInt64(0), ("@name", worker.Name), ("@host", worker.Host), ("@id", worker.Id));
            foreach (var jobId in orphans)
            {
                ReclaimJob(c, jobId, $"its worker was replaced by {worker.Id} (same name and host)", result);
            }

            return result.Build();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        ValidateWorker(heartbeat.Worker);
        if (heartbeat.LeaseDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"WorkerHeartbeat.LeaseDuration must be positive (got {heartbeat.LeaseDuration}).", nameof(heartbeat));
        }

        var held = heartbeat.Held.ToArray();
        return WriteAsync(c =>
        {
            UpsertWorker(c, heartbeat.Worker);
            var expires = c.Now + (long)heartbeat.LeaseDuration.TotalMilliseconds;
            var lost = new List<LeaseToken>();
            var cancel = new List<LeaseToken>();
            var renewed = 0;
            foreach (var token in held)
            {
                var flag = Scalar(c,
                    "UPDATE jobs SET lease_expires_at = @expires, updated_at = @now WHERE id = @id AND state = 'running' AND lease_epoch = @epoch AND lease_owner = @owner RETURNING cancel_requested",
                    ("@expires", expires), ("@now", c.Now), ("@id", token.JobId), ("@epoch", token.Epoch), ("@owner", heartbeat.Worker.Id));
                if (flag is long requested)
                {
                    renewed++;
                    if (requested != 0)
                    {
                        cancel.Add(token);
                    }
                }
                else
                {
                    lost.Add(token);
                }
            }

            return new HeartbeatResult(lost, cancel, renewed);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        return WriteAsync(c => Execute(c, "UPDATE workers SET state = 'stopped', heartbeat_at = @now, active_jobs = 0 WHERE id = @id", ("@now", c.Now), ("@id", workerId)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        if (olderThan <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, "The worker retention must be positive.");
        }

        return WriteAsync(c => Execute(c, SqliteSql.PurgeWorkers, ("@cutoff", c.Now - (long)olderThan.TotalMilliseconds)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var list = outcomes.ToArray();
        foreach (var outcome in list)
        {
            ArgumentNullException.ThrowIfNull(outcome, nameof(outcomes));
            if (outcome.Kind != OutcomeKind.Complete && outcome.Error is null)
            {
                throw new ArgumentException($"The {outcome.Kind} outcome of job {outcome.Token.JobId} has no error record; every attempt that does not complete needs one.", nameof(outcomes));
            }

            if (outcome.RetryDelay < TimeSpan.Zero)
            {
                throw new ArgumentException($"The retry delay of job {outcome.Token.JobId} is negative ({outcome.RetryDelay}).", nameof(outcomes));
            }

            if (outcome.Result is not null)
            {
                ValidateJson(outcome.Result, "result");
            }
        }

        return WriteAsync<IReadOnlyList<FenceResult>>(c => FinishBatch(c, list), cancellationToken);
    }

    /// <summary>
    /// Plain completions (no result) of jobs that appear once in the batch are fenced and written with a few statements
    /// for the whole batch; every other outcome takes the one-statement-per-outcome path. Inside the writer's
    /// transaction nothing else writes, so reading the epochs and then updating is as atomic as one guarded UPDATE.
    /// </summary>
    private static FenceResult[] FinishBatch(WriteContext c, JobOutcome[] outcomes)
    {
        var results = new FenceResult[outcomes.Length];
        var perJob = new Dictionary<long, int>(outcomes.Length);
        foreach (var outcome in outcomes)
        {
            perJob[outcome.Token.JobId] = perJob.GetValueOrDefault(outcome.Token.JobId) + 1;
        }

        var plain = new List<int>(outcomes.Length);
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (outcomes[i] is { Kind: OutcomeKind.Complete, Result: null } && perJob[outcomes[i].Token.JobId] == 1)
            {
                plain.Add(i);
            }
        }

        if (plain.Count > 1)
        {
            CompleteMany(c, outcomes, plain, results);
        }
        else
        {
            plain.Clear();
        }

        var done = plain.ToHashSet();
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (!done.Contains(i))
            {
                results[i] = Finish(c, outcomes[i]);
            }
        }

        return results;
    }

    private static void CompleteMany(WriteContext c, JobOutcome[] outcomes, List<int> plain, FenceResult[] results)
    {
        var tokens = new System.Text.StringBuilder(plain.Count * 16).Append('[');
        foreach (var i in plain)
        {
            var token = outcomes[i].Token;
            tokens.Append(tokens.Length > 1 ? ",[" : "[").Append(token.JobId.ToString(CultureInfo.InvariantCulture))
                .Append(',').Append(token.Epoch.ToString(CultureInfo.InvariantCulture)).Append(']');
        }

        // Fence, copy to history and find dependents in one statement, bound and read through the SQLite API
        // (bench/store-ops); a second removes the same fenced rows from jobs.
        var completed = new HashSet<long>(plain.Count);
        var parents = new List<long>();
        var statement = c.Raw(SqliteSql.CompleteMany);
        try
        {
            statement.Bind("@now", c.Now);
            statement.Bind("@tokens", tokens.Append(']').ToString());
            while (statement.Step())
            {
                var id = statement.Int64(0);
                completed.Add(id);
                if (statement.Int64(1) != 0)
                {
                    parents.Add(id);
                }
            }
        }
        finally
        {
            statement.Reset();
        }

        if (completed.Count > 0)
        {
            var delete = c.Raw(SqliteSql.CompleteManyDelete);
            try
            {
                delete.Bind("@tokens", tokens.ToString());
                delete.Step();
            }
            finally
            {
                delete.Reset();
            }
        }

        foreach (var i in plain)
        {
            // A refused token is rare (a zombie worker, a reclaimed job): its reason is read on its own.
            results[i] = completed.Contains(outcomes[i].Token.JobId) ? FenceResult.Ok : Refusal(c, outcomes[i].Token);
        }

        foreach (var parent in parents)
        {
            ResolveDependents(c, parent, JobState.Completed);
        }
    }

    private static FenceResult Finish(WriteContext c, JobOutcome outcome)
    {
        if (outcome.Kind is not (OutcomeKind.Complete or OutcomeKind.Cancelled) && CancelWins(c, outcome))
        {
            return FenceResult.Ok;
        }

        var (target, set) = outcome.Kind switch
        {
            OutcomeKind.Complete => (JobState.Completed, "state = 'completed', result = @result, finished_at = @now, " + ClearLease),
            OutcomeKind.Retry => (JobState.Scheduled, "state = 'scheduled', run_at = @run_at, " + AppendError + ", " + ClearLease),
            OutcomeKind.Fail => (JobState.Failed, "state = 'failed', reason = @reason, finished_at = @now, " + AppendError + ", " + ClearLease),
            OutcomeKind.DeadLetter => (JobState.DeadLetter, "state = 'dead_letter', reason = @reason, finished_at = @now, " + AppendError + ", " + ClearLease),
            OutcomeKind.Release => (JobState.Ready, "state = 'ready', attempt = max(attempt - 1, 0), " + AppendError + ", " + ClearLease),
            OutcomeKind.Cancelled => (JobState.Cancelled, "state = 'cancelled', reason = @reason, finished_at = @now, " + AppendError + ", " + ClearLease),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome.Kind, "Unknown outcome kind."),
        };

        (string, object?)[] args =
        [
            ("@id", outcome.Token.JobId), ("@epoch", outcome.Token.Epoch), ("@now", c.Now),
            ("@result", outcome.Result), ("@reason", outcome.Reason ?? outcome.Error?.Message),
            ("@run_at", c.Now + (long)outcome.RetryDelay.TotalMilliseconds),
            ("@error", outcome.Error is null ? null : JobRow.ErrorJson(outcome.Error)),
        ];
        var changed = target.IsTerminal()
            ? ToHistory(c, set + ", updated_at = @now", RunningUnder, args)
            : Execute(c, $"UPDATE jobs SET {set}, updated_at = @now WHERE {RunningUnder}", args);
        if (changed == 0)
        {
            return Refusal(c, outcome.Token);
        }

        if (target == JobState.Ready || (outcome.Kind == OutcomeKind.Retry && outcome.RetryDelay <= TimeSpan.Zero))
        {
            c.Wake();
        }

        if (target.IsTerminal())
        {
            ResolveDependents(c, outcome.Token.JobId, target);
        }

        return FenceResult.Ok;
    }

    /// <summary>
    /// A retry, release, failure or dead letter of a job whose cancellation was requested ends it cancelled instead,
    /// keeping the attempt's error: the request must win even when the handler ends before the heartbeat delivers it.
    /// Inside the writer's transaction nothing else writes, so trying this guarded statement first and the outcome's
    /// own statement second is as atomic as one.
    /// </summary>
    private static bool CancelWins(WriteContext c, JobOutcome outcome)
    {
        var changed = ToHistory(c,
            $"state = 'cancelled', reason = @reason, finished_at = @now, {AppendError}, {ClearLease}, updated_at = @now", RunningUnder + " AND cancel_requested = 1",
            ("@id", outcome.Token.JobId), ("@epoch", outcome.Token.Epoch), ("@now", c.Now),
            ("@reason", CancelledWhileRunning), ("@error", JobRow.ErrorJson(outcome.Error!)));
        if (changed == 0)
        {
            return false;
        }

        ResolveDependents(c, outcome.Token.JobId, JobState.Cancelled);
        return true;
    }

    /// <inheritdoc />
    public Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default)
    {
        if (progress is < 0 or > 100)
        {
            throw new JobValidationException("progress", $"Progress must be between 0 and 100 (got {progress}).");
        }

        if (checkpoint is not null)
        {
            ValidateJson(checkpoint, "checkpoint");
        }

        return WriteAsync(c =>
        {
            var changed = Execute(c,
                "UPDATE jobs SET progress = coalesce(@progress, progress), checkpoint = coalesce(@checkpoint, checkpoint), updated_at = @now " +
                "WHERE id = @id AND state = 'running' AND lease_epoch = @epoch",
                ("@progress", progress), ("@checkpoint", checkpoint), ("@now", c.Now), ("@id", token.JobId), ("@epoch", token.Epoch));
            return changed == 0 ? Refusal(c, token) : FenceResult.Ok;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> PromoteDueAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(c =>
        {
            var promoted = Execute(c, SqliteSql.PromoteDue, ("@now", c.Now));
            if (promoted > 0)
            {
                c.Wake();
            }

            return promoted;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default)
    {
        if (workerDeadAfter <= TimeSpan.Zero)
        {
            throw new ArgumentException($"workerDeadAfter must be positive (got {workerDeadAfter}); the default is 10 s.", nameof(workerDeadAfter));
        }

        return WriteAsync(c =>
        {
            var result = new ReclaimBuilder();
            var silentSince = c.Now - (long)workerDeadAfter.TotalMilliseconds;
            result.DeadWorkers.AddRange(Query(c,
                "UPDATE workers SET state = 'dead' WHERE state IN ('active', 'draining') AND heartbeat_at < @since RETURNING id",
                r => r.GetString(0), ("@since", silentSince)));

            var jobs = new SortedSet<long>(Query(c,
                SqliteSql.ExpiredLeases, r => r.GetInt64(0), ("@now", c.Now)));
            foreach (var dead in result.DeadWorkers)
            {
                jobs.UnionWith(Query(c, SqliteSql.RunningOfOwner, r => r.GetInt64(0), ("@owner", dead)));
            }

            foreach (var jobId in jobs)
            {
                ReclaimJob(c, jobId, "its lease expired or its worker died", result);
            }

            return result.Build();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> ExpireAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(c =>
        {
            var expired = 0;
            foreach (var (id, state) in Query(c, SqliteSql.Expiring, r => (r.GetInt64(0), r.GetString(1)), ("@now", c.Now)))
            {
                var row = Query(c, "SELECT attempt, lease_owner, started_at, expires_at FROM jobs WHERE id = @id",
                    r => (Attempt: r.GetInt32(0), Owner: r.IsDBNull(1) ? null : r.GetString(1), Started: r.IsDBNull(2) ? (long?)null : r.GetInt64(2), Expires: r.GetInt64(3)),
                    ("@id", id))[0];
                var reason = $"expired: its lifetime ended at {JobRow.ToTime(row.Expires):O}";
                var error = new JobError(row.Attempt, row.Owner, row.Started is { } s ? JobRow.ToTime(s) : null, JobRow.ToTime(c.Now), FailureCategory.Expired, reason);
                var changed = ToHistory(c,
                    $"state = 'dead_letter', reason = @reason, finished_at = @now, updated_at = @now, {AppendError}, {ClearLease}", "id = @id AND state = @from",
                    ("@reason", reason), ("@now", c.Now), ("@error", JobRow.ErrorJson(error)), ("@id", id), ("@from", state));
                if (changed == 1)
                {
                    expired++;
                    ResolveDependents(c, id, JobState.DeadLetter);
                }
            }

            return expired;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.BatchSize < 1)
        {
            throw new ArgumentException($"RetentionPolicy.BatchSize must be at least 1 (got {policy.BatchSize}).", nameof(policy));
        }

        return WriteAsync(c =>
        {
            var purged = 0;
            var overrides = policy.Queues.Keys.ToArray();
            var others = string.Join(", ", overrides.Select((_, i) => $"@q{i}"));
            var scopes = overrides.Select(q => (Policy: policy.Queues[q], Sql: SqliteSql.PurgeCandidatesOfQueue, Queue: (string?)q))
                .Append((Policy: policy, Sql: overrides.Length == 0 ? SqliteSql.PurgeCandidates : SqliteSql.PurgeCandidates.Replace(" LIMIT @limit", $" AND queue NOT IN ({others}) LIMIT @limit", StringComparison.Ordinal), Queue: null));
            foreach (var scope in scopes)
            {
                foreach (var (state, keep) in new[] { (JobState.Completed, scope.Policy.Completed), (JobState.Failed, scope.Policy.Failed), (JobState.DeadLetter, scope.Policy.DeadLetter), (JobState.Cancelled, scope.Policy.Cancelled) })
                {
                    var room = policy.BatchSize - purged;
                    if (room <= 0)
                    {
                        return purged;
                    }

                    var args = new List<(string, object?)> { ("@state", state.ToName()), ("@cutoff", c.Now - (long)keep.TotalMilliseconds), ("@limit", room), ("@queue", scope.Queue) };
                    if (scope.Queue is null)
                    {
                        args.AddRange(overrides.Select((q, i) => ($"@q{i}", (object?)q)));
                    }

                    var ids = Query(c, scope.Sql, r => r.GetInt64(0), [.. args]);
                    foreach (var id in ids)
                    {
                        // Its edges as a dependent go with it; edges naming it as a parent stay (a purged parent no longer holds anyone back).
                        purged += Execute(c, "DELETE FROM job_history WHERE id = @id", ("@id", id));
                        Execute(c, "DELETE FROM job_dependencies WHERE job_id = @id", ("@id", id));
                    }
                }
            }

            return purged;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(c =>
        {
            var state = Scalar(c, SqliteSql.StateById, ("@id", jobId)) as string;
            if (state is null)
            {
                return AdminResult.NotFound;
            }

            if (state is not ("failed" or "dead_letter" or "cancelled"))
            {
                return AdminResult.InvalidState;
            }

            var target = RetryTarget(c, jobId, out var conflict);
            if (conflict is not null)
            {
                throw conflict;
            }

            RetryOne(c, jobId, target);
            return AdminResult.Ok;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        return WriteAsync(c =>
        {
            // Oldest first (parents have lower ids than their dependents): a parent retried here is live when its dependents
            // are judged, so they wait for it. One that would be refused stays in dead letter.
            var ids = Query(c, SqliteSql.DeadLettersOfQueue, r => r.GetInt64(0), ("@queue", queue));
            return ids.Count(id =>
            {
                var target = RetryTarget(c, id, out var conflict);
                if (conflict is not null)
                {
                    return false;
                }

                RetryOne(c, id, target);
                return true;
            });
        }, cancellationToken);
    }

    /// <summary>
    /// Where a retried terminal job goes: Ready, or Pending while a dependency is live; or why it cannot be retried
    /// (a live job holds its key, or a dependency ended unsuccessfully). A purged parent no longer holds it back.
    /// </summary>
    private static JobState RetryTarget(WriteContext c, long jobId, out JobConflictException? conflict)
    {
        conflict = null;
        if (Scalar(c, "SELECT key FROM job_history WHERE id = @id", ("@id", jobId)) is string key
            && Scalar(c, SqliteSql.FindLiveKey, ("@key", key)) is long holder)
        {
            conflict = JobConflictException.KeyHeld(jobId, holder, key);
            return JobState.Ready;
        }

        var target = JobState.Ready;
        var parents = Query(c,
            SqliteSql.ParentStates,
            r => (Id: r.GetInt64(0), State: JobRow.ParseState(r.GetString(1))), ("@id", jobId));
        foreach (var parent in parents)
        {
            if (parent.State == JobState.Completed)
            {
                continue;
            }

            if (parent.State.IsTerminal())
            {
                conflict = JobConflictException.DependencyNotCompleted(jobId, parent.Id, parent.State);
                return JobState.Ready;
            }

            target = JobState.Pending;
        }

        return target;
    }

    private static void RetryOne(WriteContext c, long jobId, JobState target)
    {
        if (target == JobState.Ready)
        {
            c.Wake();
        }

        // Back from history into jobs with the same id.
        MoveRows(c, "job_history", "jobs",
            $"state = @state, attempt = 0, run_at = @now, finished_at = NULL, reason = NULL, cancel_requested = 0, result = NULL, updated_at = @now, {ClearLease}",
            "id = @id AND state IN ('failed', 'dead_letter', 'cancelled')",
            ("@state", target.ToName()), ("@now", c.Now), ("@id", jobId));
    }

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default) =>
        WriteAsync(c =>
        {
            var reason = "cancelled by a user";
            if (ToHistory(c,
                    "state = 'cancelled', reason = @reason, finished_at = @now, updated_at = @now", "id = @id AND state IN ('pending', 'scheduled', 'ready')",
                    ("@reason", reason), ("@now", c.Now), ("@id", jobId)) == 1)
            {
                ResolveDependents(c, jobId, JobState.Cancelled);
                return CancelResult.Cancelled;
            }

            if (Execute(c, "UPDATE jobs SET cancel_requested = 1, updated_at = @now WHERE id = @id AND state = 'running'", ("@now", c.Now), ("@id", jobId)) == 1)
            {
                return CancelResult.CancellationRequested;
            }

            return Scalar(c, SqliteSql.StateById, ("@id", jobId)) is null ? CancelResult.NotFound : CancelResult.AlreadyFinished;
        }, cancellationToken);

    /// <inheritdoc />
    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        return WriteAsync(c =>
        {
            if (!paused)
            {
                c.Wake();
            }

            return Execute(c,
                "INSERT INTO queues (name, paused, updated_at) VALUES (@name, @paused, @now) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at",
                ("@name", queue), ("@paused", paused ? 1 : 0), ("@now", c.Now));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        if (state == JobState.Running)
        {
            throw new JobValidationException("state", "Running jobs cannot be deleted: cancel them first, or wait until they finish or are reclaimed.");
        }

        var column = state.IsTerminal() ? "finished_at" : "created_at";
        return WriteAsync(c =>
        {
            var ids = Query(c, $"DELETE FROM {SqliteSchema.TableOf(state)} WHERE queue = @queue AND state = @state AND {column} < @before RETURNING id",
                r => r.GetInt64(0), ("@queue", queue), ("@state", state.ToName()), ("@before", JobRow.ToMs(olderThan)));
            foreach (var id in ids)
            {
                Execute(c, "DELETE FROM job_dependencies WHERE job_id = @id", ("@id", id));
            }

            if (!state.IsTerminal())
            {
                // A deleted parent can never complete: its waiting dependents go to dead letter instead of waiting forever.
                foreach (var id in ids)
                {
                    ResolveDependents(c, id, JobState.Cancelled, deleted: true);
                }
            }

            return ids.Count;
        }, cancellationToken);
    }

    /// <summary>
    /// Takes a running job from its (expired or dead) owner: Cancelled if asked, poison on its last attempt, else back to
    /// Ready; its lost-lease count (the crash history workers isolate suspects by) goes up by one. A job lost on its last
    /// attempt in company, at its first crash, is a bystander until shown otherwise: it gets that attempt back and, being
    /// a suspect now, runs alone (docs/worker.md "Suspects run alone").
    /// </summary>
    private static void ReclaimJob(WriteContext c, long jobId, string why, ReclaimBuilder result)
    {
        var rows = Query(c, "SELECT lease_epoch, attempt, max_attempts, cancel_requested, lease_owner, started_at, lost_leases FROM jobs WHERE id = @id AND state = 'running'",
            r => (Epoch: r.GetInt64(0), Attempt: r.GetInt32(1), Max: r.GetInt32(2), Cancel: r.GetInt64(3) != 0, Owner: r.GetString(4), Started: r.IsDBNull(5) ? (long?)null : r.GetInt64(5), LostLeases: r.GetInt32(6)),
            ("@id", jobId));
        if (rows.Count == 0)
        {
            return;
        }

        var row = rows[0];
        var inCompany = result.RunningOf(row.Owner, owner => Convert.ToInt32(Scalar(c, SqliteSql.CountRunningOfOwner, ("@owner", owner)), CultureInfo.InvariantCulture)) > 1;
        var refund = !row.Cancel && row.Attempt >= row.Max && row.LostLeases == 0 && inCompany;
        var message = refund
            ? $"Attempt {row.Attempt} was lost: {why}. It ran beside other jobs at its first crash, so the attempt is given back and it runs alone next."
            : $"Attempt {row.Attempt} was lost: {why}.";
        var error = new JobError(row.Attempt, row.Owner, row.Started is { } s ? JobRow.ToTime(s) : null, JobRow.ToTime(c.Now), FailureCategory.Crash, message);
        var (set, target, bucket) = row.Cancel ? ("state = 'cancelled', reason = @reason, finished_at = @now", JobState.Cancelled, result.Cancelled)
            : refund ? ("state = 'ready', attempt = attempt - 1", JobState.Ready, result.Reclaimed)
            : row.Attempt >= row.Max ? ("state = 'dead_letter', reason = @reason, finished_at = @now", JobState.DeadLetter, result.Poisoned)
            : ("state = 'ready'", JobState.Ready, result.Reclaimed);
        var reason = target == JobState.DeadLetter
            ? $"poison: all {row.Max} attempts crashed or lost their lease"
            : "cancelled by a user; its worker was lost before it stopped";
        (string, object?)[] args = [("@reason", reason), ("@now", c.Now), ("@error", JobRow.ErrorJson(error)), ("@id", jobId), ("@epoch", row.Epoch)];
        var assignments = $"{set}, lost_leases = lost_leases + 1, updated_at = @now, {AppendError}, {ClearLease}";
        var changed = target.IsTerminal()
            ? ToHistory(c, assignments, RunningUnder, args)
            : Execute(c, $"UPDATE jobs SET {assignments} WHERE {RunningUnder}", args);
        if (changed == 1)
        {
            bucket.Add(jobId);
            if (target == JobState.Ready)
            {
                c.Wake();
            }

            if (target.IsTerminal())
            {
                ResolveDependents(c, jobId, target);
            }
        }
    }

    /// <summary>
    /// After <paramref name="parentId"/> reached <paramref name="parentState"/>: a waiting dependent whose parents all completed
    /// becomes Ready (or Scheduled); one whose parent ended otherwise goes to dead letter, and so on down the graph.
    /// </summary>
    /// <remarks>With <paramref name="deleted"/>, the parent was deleted before it finished: its reason says so.</remarks>
    private static void ResolveDependents(WriteContext c, long parentId, JobState parentState, bool deleted = false)
    {
        var work = new Queue<(long Id, JobState State)>();
        work.Enqueue((parentId, parentState));
        while (work.TryDequeue(out var parent))
        {
            var children = Query(c,
                "SELECT d.job_id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id WHERE d.parent_id = @parent AND j.state = 'pending'",
                r => r.GetInt64(0), ("@parent", parent.Id));
            foreach (var child in children)
            {
                if (parent.State == JobState.Completed)
                {
                    var waiting = Scalar(c, SqliteSql.WaitingParents, ("@child", child));
                    if (waiting is 0L)
                    {
                        c.Wake();
                        Execute(c,
                            "UPDATE jobs SET state = CASE WHEN run_at > @now THEN 'scheduled' ELSE 'ready' END, updated_at = @now WHERE id = @id AND state = 'pending'",
                            ("@now", c.Now), ("@id", child));
                    }
                }
                else
                {
                    var gone = deleted && parent.Id == parentId;
                    var reason = gone ? $"dependency {parent.Id} was deleted" : $"dependency {parent.Id} ended {parent.State.ToName()}";
                    var error = new JobError(0, null, null, JobRow.ToTime(c.Now), FailureCategory.Dependency,
                        gone ? $"Job {parent.Id}, which this job depends on, was deleted before it finished; this job can never run."
                            : $"Job {parent.Id}, which this job depends on, ended {parent.State.ToName()}; this job can never run.");
                    if (ToHistory(c,
                            $"state = 'dead_letter', reason = @reason, finished_at = @now, updated_at = @now, {AppendError}", "id = @id AND state = 'pending'",
                            ("@reason", reason), ("@now", c.Now), ("@error", JobRow.ErrorJson(error)), ("@id", child)) == 1)
                    {
                        work.Enqueue((child, JobState.DeadLetter));
                    }
                }
            }
        }
    }

    /// <summary>Why a fenced write matched no row: the distinct codes of <see cref="FenceResult"/>.</summary>
    private static FenceResult Refusal(WriteContext c, LeaseToken token)
    {
        var rows = Query(c, SqliteSql.StateById, r => (State: r.GetString(0), Epoch: r.GetInt64(1)), ("@id", token.JobId));
        if (rows.Count == 0)
        {
            return FenceResult.NotFound;
        }

        return rows[0].State == "running" ? FenceResult.LeaseLost : FenceResult.NotRunning;
    }

    private static void UpsertWorker(WriteContext c, WorkerRegistration w) => Execute(c,
        "INSERT INTO workers (id, name, host, pid, queues, concurrency, started_at, state, active_jobs, memory_bytes, heartbeat_at) " +
        "VALUES (@id, @name, @host, @pid, @queues, @concurrency, @started, @state, @active, @memory, @now) " +
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, host = excluded.host, pid = excluded.pid, queues = excluded.queues, " +
        "concurrency = excluded.concurrency, started_at = excluded.started_at, state = excluded.state, active_jobs = excluded.active_jobs, " +
        "memory_bytes = excluded.memory_bytes, heartbeat_at = excluded.heartbeat_at",
        ("@id", w.Id), ("@name", w.Name), ("@host", w.Host), ("@pid", w.ProcessId), ("@queues", JsonSerializer.Serialize(w.Queues)),
        ("@concurrency", w.Concurrency), ("@started", JobRow.ToMs(w.StartedAt)), ("@state", WorkerStateName(w.State)),
        ("@active", w.ActiveJobs), ("@memory", w.MemoryBytes), ("@now", c.Now));

    internal static string WorkerStateName(WorkerState state) => state switch
    {
        WorkerState.Active => "active",
        WorkerState.Draining => "draining",
        WorkerState.Stopped => "stopped",
        WorkerState.Dead => "dead",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown worker state."),
    };

    private static void ValidateWorker(WorkerRegistration worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        if (string.IsNullOrEmpty(worker.Id) || string.IsNullOrEmpty(worker.Name) || string.IsNullOrEmpty(worker.Host))
        {
            throw new ArgumentException("A worker registration needs an Id, a Name and a Host.", nameof(worker));
        }

        if (worker.Concurrency < 0)
        {
            throw new ArgumentException($"A worker's concurrency cannot be negative (got {worker.Concurrency}).", nameof(worker));
        }
    }

    private static void ValidateJson(string json, string field)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new JobValidationException(field, $"The {field} is not valid JSON: {ex.Message}");
        }
    }

    private static SqliteCommand Bind(WriteContext c, string sql, params (string Name, object? Value)[] args)
    {
        var command = c.Command(sql);
        foreach (var (name, value) in args)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static int Execute(WriteContext c, string sql, params (string Name, object? Value)[] args) => Bind(c, sql, args).ExecuteNonQuery();

    /// <summary>A terminal transition: moves the jobs rows matching <paramref name="where"/> (the fence) to job_history with <paramref name="set"/> applied.</summary>
    private static int ToHistory(WriteContext c, string set, string where, params (string Name, object? Value)[] args) =>
        MoveRows(c, "jobs", "job_history", set, where, args);

    /// <summary>Copies the matching rows with <paramref name="set"/> applied, then deletes them under the same predicate (<see cref="SqliteSql.Move"/>).</summary>
    private static int MoveRows(WriteContext c, string from, string to, string set, string where, params (string Name, object? Value)[] args)
    {
        var (copy, delete) = Moves.GetOrAdd((from, to, set, where), k => SqliteSql.Move(k.From, k.To, k.Set, k.Where));
        var moved = Execute(c, copy, args);
        if (moved > 0 && Execute(c, delete, args) != moved)
        {
            // Cannot happen inside the writer's transaction; throwing rolls the operation back rather than keep a row twice.
            throw new InvalidOperationException($"Moving jobs from {from} to {to} copied {moved} rows but deleted a different number ({where}).");
        }

        return moved;
    }

    private static object? Scalar(WriteContext c, string sql, params (string Name, object? Value)[] args)
    {
        var value = Bind(c, sql, args).ExecuteScalar();
        return value is DBNull ? null : value;
    }

    private static List<T> Query<T>(WriteContext c, string sql, Func<SqliteDataReader, T> map, params (string Name, object? Value)[] args)
    {
        using var reader = Bind(c, sql, args).ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
        {
            list.Add(map(reader));
        }

        return list;
    }

    /// <summary>Collects one reclaim pass's effects.</summary>
    private sealed class ReclaimBuilder
    {
        internal List<long> Reclaimed { get; } = [];
        internal List<long> Poisoned { get; } = [];
        internal List<long> Cancelled { get; } = [];
        internal List<string> DeadWorkers { get; } = [];

        // How many jobs each owner held when this pass began taking them back (read before the first of them is taken).
        private Dictionary<string, int> RunningByOwner { get; } = new(StringComparer.Ordinal);

        internal int RunningOf(string owner, Func<string, int> count)
        {
            if (!RunningByOwner.TryGetValue(owner, out var running))
            {
                RunningByOwner[owner] = running = count(owner);
            }

            return running;
        }

        internal ReclaimResult Build() => new(Reclaimed, Poisoned, Cancelled, DeadWorkers);
    }
}
