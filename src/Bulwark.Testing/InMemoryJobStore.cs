using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;

namespace Bulwark.Testing;

/// <summary>
/// A complete <see cref="IJobStore"/> and <see cref="IJobQuery"/> held in memory, for tests of code that enqueues or runs jobs.
/// It follows <see cref="JobTransitions"/> exactly and passes the same contract suite as the durable stores, but keeps nothing
/// across process restarts. Thread-safe; its clock is the <see cref="TimeProvider"/> it is given (use a fake one in tests).
/// </summary>
public sealed partial class InMemoryJobStore : IJobStore, IJobQuery
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly SortedDictionary<long, MemoryJob> _jobs = [];
    private readonly Dictionary<string, long> _liveKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<long, List<long>> _dependents = [];
    private readonly HashSet<string> _pausedQueues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _knownQueues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WorkerInfo> _workers = new(StringComparer.Ordinal);
    private long _lastId;

    /// <summary>Creates an empty store whose clock is <paramref name="time"/> (the system clock when null).</summary>
    public InMemoryJobStore(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <inheritdoc />
    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The client already enforced its payload limit; the store only refuses what is malformed.
        JobValidator.ValidateBatch(jobs, int.MaxValue);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var job in jobs)
            {
                foreach (var parent in job.DependsOn)
                {
                    if (!_jobs.ContainsKey(parent))
                    {
                        throw new JobValidationException("depends_on", $"Job {parent} does not exist; depend only on jobs that were enqueued (and not yet purged).", JobValidationKind.UnknownReference);
                    }
                }
            }

            // Nothing below can fail, so the batch is stored whole or not at all.
            var results = new EnqueueResult[jobs.Count];
            var batchKeys = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < jobs.Count; i++)
            {
                // The queue's stored policy fills what the job did not set itself, in the same step as the insert.
                var job = jobs[i].WithQueuePolicy(_policies.GetValueOrDefault(jobs[i].Queue));
                if (job.Key is { } key && (batchKeys.TryGetValue(key, out var existing) || _liveKeys.TryGetValue(key, out existing)))
                {
                    results[i] = new EnqueueResult(existing, true);
                    continue;
                }

                var parents = job.DependsOn.Concat(job.DependsOnBatchIndexes.Select(index => results[index].Id)).Distinct().ToArray();
                var row = new MemoryJob
                {
                    Id = ++_lastId,
                    Queue = job.Queue,
                    Type = job.Type,
                    Payload = job.Payload,
                    Priority = job.Priority,
                    RunAt = job.RunAt ?? now,
                    CreatedAt = now,
                    UpdatedAt = now,
                    MaxAttempts = job.MaxAttempts,
                    Timeout = job.Timeout,
                    Backoff = job.Backoff,
                    Key = job.Key,
                    DependsOn = parents,
                    ExpiresAt = job.ExpiresAt,
                    TraceParent = job.TraceParent,
                };
                var failedParent = parents.Select(p => _jobs[p]).FirstOrDefault(p => p.State.IsTerminal() && p.State != JobState.Completed);
                if (failedParent is not null)
                {
                    // A job born behind a parent that can no longer complete would wait forever: it is dead on arrival.
                    row.State = JobState.DeadLetter;
                    row.Reason = DependencyReason(failedParent);
                    row.FinishedAt = now;
                }
                else if (parents.Any(p => _jobs[p].State != JobState.Completed))
                {
                    row.State = JobState.Pending;
                }
                else
                {
                    row.State = row.RunAt > now ? JobState.Scheduled : JobState.Ready;
                }

                _jobs.Add(row.Id, row);
                _knownQueues.Add(row.Queue);
                foreach (var parent in parents)
                {
                    if (!_dependents.TryGetValue(parent, out var children))
                    {
                        _dependents[parent] = children = [];
                    }

                    children.Add(row.Id);
                }

                if (row.Key is not null && !row.State.IsTerminal())
                {
                    _liveKeys[row.Key] = row.Id;
                    batchKeys[row.Key] = row.Id;
                }

                results[i] = new EnqueueResult(row.Id, false);
            }

            return Task.FromResult<IReadOnlyList<EnqueueResult>>(results);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedJob>> LeaseAsync(LeaseRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        if (request.Max <= 0 || request.Queues.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<LeasedJob>>([]);
        }

        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _runningDuringLease.Clear();
            var preference = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < request.Queues.Count; i++)
            {
                preference.TryAdd(request.Queues[i], i);
            }

            var chosen = _jobs.Values
                .Where(j => preference.ContainsKey(j.Queue)
                    && !_pausedQueues.Contains(j.Queue)
                    && (j.State == JobState.Ready || (j.State == JobState.Scheduled && j.RunAt <= now))
                    && !request.ExcludedTypes.Contains(j.Type))
                .OrderBy(j => preference[j.Queue])
                .ThenByDescending(j => j.Priority)
                .ThenBy(j => j.RunAt)
                .ThenBy(j => j.Id)
                .Where(j => TakeAllowance(j.Queue, now))
                .Take(request.Max)
                .ToList();

            var leased = new List<LeasedJob>(chosen.Count);
            foreach (var job in chosen)
            {
                if (job.State == JobState.Scheduled)
                {
                    Move(job, JobState.Ready, JobTrigger.Due, now);
                }

                Move(job, JobState.Running, JobTrigger.Lease, now);
                job.Attempt++;
                job.LeaseEpoch++;
                job.LeaseOwner = request.WorkerId;
                job.LeaseExpiresAt = now + request.LeaseDuration;
                job.StartedAt = now;
                leased.Add(new LeasedJob
                {
                    Token = new LeaseToken(job.Id, job.LeaseEpoch),
                    Queue = job.Queue,
                    Type = job.Type,
                    Payload = job.Payload,
                    Priority = job.Priority,
                    Attempt = job.Attempt,
                    MaxAttempts = job.MaxAttempts,
                    Timeout = job.Timeout,
                    Backoff = job.Backoff,
                    Checkpoint = job.Checkpoint,
                    Progress = job.Progress,
                    TraceParent = job.TraceParent,
                    CreatedAt = job.CreatedAt,
                    RunAt = job.RunAt,
                    LeaseExpiresAt = job.LeaseExpiresAt.Value,
                    ExpiresAt = job.ExpiresAt,
                    LostLeases = job.LostLeases,
                });
            }

            return Task.FromResult<IReadOnlyList<LeasedJob>>(leased);
        }
    }

    /// <inheritdoc />
    public Task<ReclaimResult> RegisterWorkerAsync(WorkerRegistration worker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var predecessors = _workers.Values
                .Where(w => w.Registration.Id != worker.Id && w.Registration.Name == worker.Name && w.Registration.Host == worker.Host)
                .ToList();
            var declaredDead = new List<string>();
            foreach (var old in predecessors)
            {
                if (old.State is WorkerState.Active or WorkerState.Draining)
                {
                    _workers[old.Registration.Id] = old with { State = WorkerState.Dead };
                    declaredDead.Add(old.Registration.Id);
                }
            }

            var owners = predecessors.Select(p => p.Registration.Id).ToHashSet(StringComparer.Ordinal);
            var result = ReclaimWhere(j => j.LeaseOwner is { } owner && owners.Contains(owner), now, declaredDead, "its worker was replaced by a restart under the same name");
            _workers[worker.Id] = new WorkerInfo { Registration = worker, HeartbeatAt = now, State = worker.State };
            return Task.FromResult(result);
        }
    }

    /// <inheritdoc />
    public Task<HeartbeatResult> HeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _workers[heartbeat.Worker.Id] = new WorkerInfo { Registration = heartbeat.Worker, HeartbeatAt = now, State = heartbeat.Worker.State };
            var lost = new List<LeaseToken>();
            var cancelRequested = new List<LeaseToken>();
            var renewed = 0;
            foreach (var token in heartbeat.Held)
            {
                if (Fence(token, out var job) != FenceResult.Ok)
                {
                    lost.Add(token);
                    continue;
                }

                job!.LeaseExpiresAt = now + heartbeat.LeaseDuration;
                job.UpdatedAt = now;
                renewed++;
                if (job.CancelRequested)
                {
                    cancelRequested.Add(token);
                }
            }

            return Task.FromResult(new HeartbeatResult(lost, cancelRequested, renewed));
        }
    }

    /// <inheritdoc />
    public Task DeregisterWorkerAsync(string workerId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_workers.TryGetValue(workerId, out var info))
            {
                _workers[workerId] = info with { State = WorkerState.Stopped, HeartbeatAt = _time.GetUtcNow(), Registration = info.Registration with { State = WorkerState.Stopped, ActiveJobs = 0 } };
            }

            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<int> PurgeWorkersAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        if (olderThan <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, "The worker retention must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var cutoff = _time.GetUtcNow() - olderThan;
            var owners = _jobs.Values.Where(j => j.State == JobState.Running && j.LeaseOwner is not null).Select(j => j.LeaseOwner!).ToHashSet(StringComparer.Ordinal);
            var doomed = _workers.Values
                .Where(w => w.State is WorkerState.Stopped or WorkerState.Dead && w.HeartbeatAt < cutoff && !owners.Contains(w.Registration.Id))
                .Select(w => w.Registration.Id)
                .ToList();
            foreach (var id in doomed)
            {
                _workers.Remove(id);
            }

            return Task.FromResult(doomed.Count);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<FenceResult>> FinishAsync(IReadOnlyList<JobOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var results = new FenceResult[outcomes.Count];
            for (var i = 0; i < outcomes.Count; i++)
            {
                var outcome = outcomes[i];
                results[i] = Fence(outcome.Token, out var job);
                if (results[i] == FenceResult.Ok)
                {
                    Apply(job!, outcome, now);
                }
            }

            return Task.FromResult<IReadOnlyList<FenceResult>>(results);
        }
    }

    /// <inheritdoc />
    public Task<FenceResult> SaveProgressAsync(LeaseToken token, int? progress, string? checkpoint, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var result = Fence(token, out var job);
            if (result == FenceResult.Ok)
            {
                if (progress is { } p)
                {
                    job!.Progress = Math.Clamp(p, 0, 100);
                }

                if (checkpoint is not null)
                {
                    job!.Checkpoint = checkpoint;
                }

                job!.UpdatedAt = _time.GetUtcNow();
            }

            return Task.FromResult(result);
        }
    }

    /// <inheritdoc />
    public Task<int> PromoteDueAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var due = _jobs.Values.Where(j => j.State == JobState.Scheduled && j.RunAt <= now).ToList();
            foreach (var job in due)
            {
                Move(job, JobState.Ready, JobTrigger.Due, now);
            }

            return Task.FromResult(due.Count);
        }
    }

    /// <inheritdoc />
    public Task<ReclaimResult> ReclaimAsync(TimeSpan workerDeadAfter, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var declaredDead = new List<string>();
            foreach (var info in _workers.Values.ToList())
            {
                if (info.State is WorkerState.Active or WorkerState.Draining && now - info.HeartbeatAt > workerDeadAfter)
                {
                    _workers[info.Registration.Id] = info with { State = WorkerState.Dead };
                    declaredDead.Add(info.Registration.Id);
                }
            }

            var goneOwners = _workers.Values
                .Where(w => w.State is WorkerState.Dead or WorkerState.Stopped)
                .Select(w => w.Registration.Id)
                .ToHashSet(StringComparer.Ordinal);
            var result = ReclaimWhere(
                j => j.LeaseExpiresAt <= now || (j.LeaseOwner is { } owner && goneOwners.Contains(owner)),
                now,
                declaredDead,
                "its lease expired or its worker died");
            return Task.FromResult(result);
        }
    }

    /// <inheritdoc />
    public Task<int> ExpireAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var expired = 0;
            foreach (var job in _jobs.Values.Where(j => !j.State.IsTerminal() && j.ExpiresAt <= now).ToList())
            {
                // An earlier expiry in this pass may already have dead-lettered this job through its dependency.
                if (job.State.IsTerminal())
                {
                    continue;
                }

                if (job.State == JobState.Running)
                {
                    job.Errors.Add(new JobError(job.Attempt, job.LeaseOwner, job.StartedAt, now, FailureCategory.Expired, "The job's lifetime ended while it ran."));
                }

                job.Reason = $"Expired: its lifetime ended at {job.ExpiresAt:O}.";
                Move(job, JobState.DeadLetter, JobTrigger.Expire, now);
                expired++;
            }

            return Task.FromResult(expired);
        }
    }

    /// <inheritdoc />
    public Task<int> PurgeAsync(RetentionPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var doomed = _jobs.Values
                .Where(j => j.FinishedAt is { } finished && j.State.IsTerminal() && finished < now - Keep(policy.For(j.Queue), j.State))
                .OrderBy(j => j.FinishedAt)
                .ThenBy(j => j.Id)
                .Take(Math.Max(0, policy.BatchSize))
                .ToList();
            foreach (var job in doomed)
            {
                Remove(job);
            }

            return Task.FromResult(doomed.Count);
        }
    }

    /// <inheritdoc />
    public Task<AdminResult> RetryAsync(long jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job))
            {
                return Task.FromResult(AdminResult.NotFound);
            }

            if (!JobTransitions.IsAllowed(job.State, JobState.Ready, JobTrigger.ManualRetry))
            {
                return Task.FromResult(AdminResult.InvalidState);
            }

            if (RetryBlocker(job, out var target) is { } conflict)
            {
                throw conflict;
            }

            ManualRetry(job, target, _time.GetUtcNow());
            return Task.FromResult(AdminResult.Ok);
        }
    }

    /// <inheritdoc />
    public Task<int> RetryDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var retried = 0;
            // Oldest first (ids ascend, parents before their dependents): a parent retried here is live when its dependents are judged.
            foreach (var job in _jobs.Values.Where(j => j.Queue == queue && j.State == JobState.DeadLetter).ToList())
            {
                if (RetryBlocker(job, out var target) is null)
                {
                    ManualRetry(job, target, now);
                    retried++;
                }
            }

            return Task.FromResult(retried);
        }
    }

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(long jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job))
            {
                return Task.FromResult(CancelResult.NotFound);
            }

            if (job.State.IsTerminal())
            {
                return Task.FromResult(CancelResult.AlreadyFinished);
            }

            var now = _time.GetUtcNow();
            if (job.State == JobState.Running)
            {
                job.CancelRequested = true;
                job.UpdatedAt = now;
                return Task.FromResult(CancelResult.CancellationRequested);
            }

            job.Reason = "Cancelled by a user.";
            Move(job, JobState.Cancelled, JobTrigger.Cancel, now);
            return Task.FromResult(CancelResult.Cancelled);
        }
    }

    /// <inheritdoc />
    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken = default)
    {
        JobValidator.ValidateQueue(queue);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _knownQueues.Add(queue);
            if (paused)
            {
                _pausedQueues.Add(queue);
            }
            else
            {
                _pausedQueues.Remove(queue);
            }

            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteJobsAsync(string queue, JobState state, DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (state == JobState.Running)
        {
            throw new JobValidationException("state", "Running jobs cannot be deleted; cancel them first, or wait until they finish.");
        }

        lock (_gate)
        {
            var doomed = _jobs.Values
                .Where(j => j.Queue == queue && j.State == state && (j.FinishedAt ?? j.CreatedAt) < olderThan)
                .ToList();
            var now = _time.GetUtcNow();
            foreach (var job in doomed)
            {
                Remove(job);
                if (!state.IsTerminal())
                {
                    // A deleted parent can never complete: its waiting dependents go to dead letter instead of waiting forever.
                    foreach (var child in _jobs.Values.Where(j => j.State == JobState.Pending && j.DependsOn.Contains(job.Id)).ToList())
                    {
                        DeadLetterDependent(child, DeletedDependencyReason(job.Id), now);
                    }
                }
            }

            return Task.FromResult(doomed.Count);
        }
    }

    /// <inheritdoc />
    public Task<JobSnapshot?> GetJobAsync(long jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_jobs.TryGetValue(jobId, out var job) ? job.ToSnapshot() : null);
        }
    }

    /// <inheritdoc />
    public Task<JobSnapshot?> FindByKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_liveKeys.TryGetValue(key, out var live))
            {
                return Task.FromResult<JobSnapshot?>(_jobs[live].ToSnapshot());
            }

            var newest = _jobs.Values.LastOrDefault(j => j.Key == key);
            return Task.FromResult(newest?.ToSnapshot());
        }
    }

    /// <inheritdoc />
    public Task<JobPage> ListJobsAsync(JobListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var limit = Math.Clamp(query.Limit, 1, JobListQuery.MaxLimit);
        lock (_gate)
        {
            var page = _jobs.Values
                .Reverse()
                .Where(j => (query.BeforeId is not { } before || j.Id < before)
                    && (query.Queue is null || j.Queue == query.Queue)
                    && (query.State is not { } state || j.State == state))
                .Take(limit + 1)
                .Select(j => j.ToSnapshot())
                .ToList();
            long? next = null;
            if (page.Count > limit)
            {
                page.RemoveAt(limit);
                next = page[^1].Id;
            }

            return Task.FromResult(new JobPage(page, next));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<QueueStats>> GetQueuesAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var byQueue = _jobs.Values.ToLookup(j => j.Queue, StringComparer.Ordinal);
            var stats = _knownQueues
                .Concat(byQueue.Select(g => g.Key))
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .Select(queue =>
                {
                    var jobs = byQueue[queue].ToList();
                    var ready = jobs.Where(j => j.State == JobState.Ready).ToList();
                    return new QueueStats
                    {
                        Queue = queue,
                        Counts = JobStates.All.ToDictionary(s => s, s => (long)jobs.Count(j => j.State == s)),
                        Paused = _pausedQueues.Contains(queue),
                        OldestReadyAt = ready.Count == 0 ? null : ready.Min(j => j.RunAt),
                    };
                })
                .ToList();
            return Task.FromResult<IReadOnlyList<QueueStats>>(stats);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkerInfo>> ListWorkersAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<WorkerInfo>>(_workers.Values
                .OrderByDescending(w => w.HeartbeatAt)
                .ThenBy(w => w.Registration.Id, StringComparer.Ordinal)
                .ToList());
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobSnapshot>> ListStalledAsync(int limit = 100, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            return Task.FromResult<IReadOnlyList<JobSnapshot>>(_jobs.Values
                .Where(j => j.State == JobState.Running && j.LeaseExpiresAt <= now)
                .OrderBy(j => j.LeaseExpiresAt)
                .ThenBy(j => j.Id)
                .Take(Math.Max(0, limit))
                .Select(j => j.ToSnapshot())
                .ToList());
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private FenceResult Fence(LeaseToken token, out MemoryJob? job)
    {
        if (!_jobs.TryGetValue(token.JobId, out job))
        {
            return FenceResult.NotFound;
        }

        if (job.State != JobState.Running)
        {
            return FenceResult.NotRunning;
        }

        return job.LeaseEpoch == token.Epoch ? FenceResult.Ok : FenceResult.LeaseLost;
    }

    private void Apply(MemoryJob job, JobOutcome outcome, DateTimeOffset now)
    {
        if (outcome.Error is { } error)
        {
            job.Errors.Add(error);
        }

        switch (outcome.Kind)
        {
            case OutcomeKind.Complete:
                job.Result = outcome.Result;
                Move(job, JobState.Completed, JobTrigger.Complete, now);
                break;
            case OutcomeKind.Retry when job.CancelRequested:
            case OutcomeKind.Release when job.CancelRequested:
            case OutcomeKind.Fail when job.CancelRequested:
            case OutcomeKind.DeadLetter when job.CancelRequested:
                // Cancel wins over any unsuccessful end: retrying or handing it back would run it again, and a failure
                // that arrives after the request (often caused by the stop itself) is not what the user asked for.
                // The attempt's error is kept. A completion still completes: the work was done.
                job.Reason = "Cancelled by a user while it ran.";
                Move(job, JobState.Cancelled, JobTrigger.Cancel, now);
                break;
            case OutcomeKind.Retry:
                job.RunAt = now + outcome.RetryDelay;
                Move(job, JobState.Scheduled, JobTrigger.Retry, now);
                break;
            case OutcomeKind.Fail:
                job.Reason = outcome.Reason ?? outcome.Error?.Message;
                Move(job, JobState.Failed, JobTrigger.FailPermanently, now);
                break;
            case OutcomeKind.DeadLetter:
                job.Reason = outcome.Reason ?? outcome.Error?.Message;
                Move(job, JobState.DeadLetter, JobTrigger.AttemptsExhausted, now);
                break;
            case OutcomeKind.Release:
                job.Attempt = Math.Max(0, job.Attempt - 1);
                Move(job, JobState.Ready, JobTrigger.Release, now);
                break;
            case OutcomeKind.Cancelled:
                job.Reason = outcome.Reason ?? "Cancelled by a user while it ran.";
                Move(job, JobState.Cancelled, JobTrigger.Cancel, now);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(outcome), outcome.Kind, "Unknown outcome kind.");
        }
    }

    private ReclaimResult ReclaimWhere(Func<MemoryJob, bool> abandoned, DateTimeOffset now, List<string> declaredDead, string why)
    {
        var reclaimed = new List<long>();
        var poisoned = new List<long>();
        var cancelled = new List<long>();
        // How many jobs each owner held at the crash: a job lost beside others at its first crash may be a bystander.
        var runningByOwner = _jobs.Values.Where(j => j.State == JobState.Running && j.LeaseOwner is not null)
            .GroupBy(j => j.LeaseOwner!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var job in _jobs.Values.Where(j => j.State == JobState.Running && abandoned(j)).ToList())
        {
            var firstCrash = job.LostLeases == 0;
            job.LostLeases++;
            if (job.CancelRequested)
            {
                job.Reason = "Cancelled by a user; its worker stopped before it ended.";
                Move(job, JobState.Cancelled, JobTrigger.Cancel, now);
                cancelled.Add(job.Id);
                continue;
            }

            var inCompany = job.LeaseOwner is { } owner && runningByOwner.GetValueOrDefault(owner) > 1;
            if (job.Attempt >= job.MaxAttempts && firstCrash && inCompany)
            {
                // Its last attempt, lost beside other jobs at its first crash: given back, it runs alone next as a suspect.
                job.Errors.Add(new JobError(job.Attempt, job.LeaseOwner, job.StartedAt, now, FailureCategory.Crash,
                    $"Attempt {job.Attempt} was abandoned: {why}. It ran beside other jobs at its first crash, so the attempt is given back and it runs alone next."));
                job.Attempt--;
                Move(job, JobState.Ready, JobTrigger.Reclaim, now);
                reclaimed.Add(job.Id);
                continue;
            }

            job.Errors.Add(new JobError(job.Attempt, job.LeaseOwner, job.StartedAt, now, FailureCategory.Crash, $"Attempt {job.Attempt} was abandoned: {why}."));
            if (job.Attempt >= job.MaxAttempts)
            {
                job.Reason = $"Poison: all {job.MaxAttempts} attempts crashed ({why}); quarantined.";
                Move(job, JobState.DeadLetter, JobTrigger.Poison, now);
                poisoned.Add(job.Id);
            }
            else
            {
                Move(job, JobState.Ready, JobTrigger.Reclaim, now);
                reclaimed.Add(job.Id);
            }
        }

        return declaredDead.Count + reclaimed.Count + poisoned.Count + cancelled.Count == 0
            ? ReclaimResult.None
            : new ReclaimResult(reclaimed, poisoned, cancelled, declaredDead);
    }

    /// <summary>
    /// Why a terminal job cannot be retried, or null with the state it goes to: a live job holding its key, or a dependency
    /// that ended unsuccessfully, refuses it; a live dependency sends it to Pending. A purged parent no longer holds it back.
    /// </summary>
    private JobConflictException? RetryBlocker(MemoryJob job, out JobState target)
    {
        target = JobState.Ready;
        if (job.Key is { } key && _liveKeys.TryGetValue(key, out var holder) && holder != job.Id)
        {
            return JobConflictException.KeyHeld(job.Id, holder, key);
        }

        foreach (var parentId in job.DependsOn.Order())
        {
            if (!_jobs.TryGetValue(parentId, out var parent) || parent.State == JobState.Completed)
            {
                continue;
            }

            if (parent.State.IsTerminal())
            {
                return JobConflictException.DependencyNotCompleted(job.Id, parent.Id, parent.State);
            }

            target = JobState.Pending;
        }

        return null;
    }

    private void ManualRetry(MemoryJob job, JobState target, DateTimeOffset now)
    {
        Move(job, target, JobTrigger.ManualRetry, now);
        job.Attempt = 0;
        job.Reason = null;
        job.Result = null;
        job.FinishedAt = null;
        job.CancelRequested = false;
        job.RunAt = now;
        if (job.Key is { } key)
        {
            _liveKeys[key] = job.Id;
        }
    }

    /// <summary>The one place a job changes state: checks the edge against the table and keeps keys, leases and dependents in step.</summary>
    private void Move(MemoryJob job, JobState to, JobTrigger trigger, DateTimeOffset now)
    {
        JobTransitions.EnsureAllowed(job.State, to, trigger);
        var from = job.State;
        job.State = to;
        job.UpdatedAt = now;
        if (from == JobState.Running)
        {
            job.LeaseOwner = null;
            job.LeaseExpiresAt = null;
            job.CancelRequested = false;
        }

        if (!to.IsTerminal())
        {
            return;
        }

        job.FinishedAt = now;
        if (job.Key is { } key && _liveKeys.TryGetValue(key, out var holder) && holder == job.Id)
        {
            _liveKeys.Remove(key);
        }

        ResolveDependents(job, now);
    }

    private void ResolveDependents(MemoryJob parent, DateTimeOffset now)
    {
        if (!_dependents.TryGetValue(parent.Id, out var children))
        {
            return;
        }

        foreach (var childId in children)
        {
            if (!_jobs.TryGetValue(childId, out var child) || child.State != JobState.Pending)
            {
                continue;
            }

            if (parent.State != JobState.Completed)
            {
                DeadLetterDependent(child, DependencyReason(parent), now);
            }
            // A parent purged after it completed no longer holds its dependents back (as in the durable stores).
            else if (child.DependsOn.All(p => !_jobs.TryGetValue(p, out var other) || other.State == JobState.Completed))
            {
                Move(child, child.RunAt > now ? JobState.Scheduled : JobState.Ready, JobTrigger.DependenciesCompleted, now);
            }
        }
    }

    private void Remove(MemoryJob job)
    {
        _jobs.Remove(job.Id);
        _dependents.Remove(job.Id);
        if (job.Key is { } key && _liveKeys.TryGetValue(key, out var holder) && holder == job.Id)
        {
            _liveKeys.Remove(key);
        }
    }

    private void DeadLetterDependent(MemoryJob child, string reason, DateTimeOffset now)
    {
        child.Reason = reason;
        child.Errors.Add(new JobError(child.Attempt, null, null, now, FailureCategory.Dependency, reason));
        Move(child, JobState.DeadLetter, JobTrigger.DependencyFailed, now);
    }

    private static string DeletedDependencyReason(long parentId) => $"Dependency {parentId} was deleted; this job can never run.";

    private static string DependencyReason(MemoryJob parent) =>
        $"Dependency {parent.Id} ended {parent.State.ToName()}; this job can never run.";

    private static TimeSpan Keep(RetentionPolicy policy, JobState state) => state switch
    {
        JobState.Completed => policy.Completed,
        JobState.Failed => policy.Failed,
        JobState.DeadLetter => policy.DeadLetter,
        _ => policy.Cancelled,
    };
}
