using Bulwark.Jobs;
using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.Workers;

namespace Bulwark.Server.Api;

/// <summary>
/// Answers "why is this job not running now?" from what the store and the breakers say: the body of
/// <c>GET /api/v1/jobs/{id}/explain</c>, and what <c>bulwark explain ID</c> prints.
/// </summary>
public static class JobExplainer
{
    /// <summary>Explains <paramref name="job"/> from the store's limits and breakers; <paramref name="services"/> may hold this process's storage circuit (or nothing).</summary>
    public static async Task<Explanation> ExplainAsync(JobSnapshot job, IJobStore store, IJobQuery query, TimeProvider time, IServiceProvider services, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var reasons = new List<Reason>();
        switch (job.State)
        {
            case JobState.Running:
                reasons.Add(new Reason("leased", $"Running: leased by worker {job.LeaseOwner} until {job.LeaseExpiresAt:O} (attempt {job.Attempt} of {job.MaxAttempts}).")
                {
                    Worker = job.LeaseOwner,
                    Until = job.LeaseExpiresAt,
                });
                if (job.LeaseExpiresAt < now)
                {
                    reasons.Add(new Reason("lease_expired", "Its lease has expired: the worker stopped renewing it; the next maintenance pass reclaims it."));
                }

                if (job.CancelRequested)
                {
                    reasons.Add(new Reason("cancel_requested", "Cancellation was requested; its worker stops it at the next heartbeat."));
                }

                break;
            case var terminal when terminal.IsTerminal():
                reasons.Add(new Reason("finished", $"It finished as {job.State.ToName()}{(job.Reason is null ? "" : $": {job.Reason}")}. POST /jobs/{job.Id}/retry runs it again (failed, dead_letter and cancelled jobs)."));
                break;
            case JobState.Pending:
                var waiting = new List<Dependency>();
                foreach (var parent in job.DependsOn)
                {
                    var state = (await query.GetJobAsync(parent, cancellationToken))?.State;
                    if (state != JobState.Completed)
                    {
                        waiting.Add(new Dependency(parent, state?.ToName() ?? "missing"));
                    }
                }

                reasons.Add(new Reason("waiting_on_dependencies", $"Waiting for {waiting.Count} job(s) to complete first: {string.Join(", ", waiting.Select(d => $"{d.Id} ({d.State})"))}.")
                {
                    Dependencies = waiting,
                });
                break;
            case JobState.Scheduled when job.RunAt > now:
                reasons.Add(new Reason("scheduled", $"Scheduled: it may start at {job.RunAt:O}, in {DurationText.Format(TimeSpan.FromSeconds(Math.Ceiling((job.RunAt - now).TotalSeconds)))}{(job.Attempt > 0 ? $" (retry after attempt {job.Attempt})" : "")}.")
                {
                    Until = job.RunAt,
                });
                break;
        }

        if (!job.State.IsTerminal())
        {
            ExplainRecovery(job, reasons);
        }

        if (!job.State.IsTerminal() && job.State != JobState.Running)
        {
            var queue = (await query.GetQueuesAsync(cancellationToken)).FirstOrDefault(q => q.Queue == job.Queue);
            if (queue?.Paused == true)
            {
                reasons.Add(new Reason("queue_paused", $"Queue '{job.Queue}' is paused; POST /queues/{job.Queue}/resume lets workers take its jobs again."));
            }

            if (job.State is JobState.Ready or JobState.Scheduled && job.RunAt <= now
                && (await store.GetQueueLimitsAsync(cancellationToken)).GetValueOrDefault(job.Queue) is { } limits)
            {
                var running = queue?[JobState.Running] ?? 0;
                if (limits.MaxRunning is { } max && running >= max)
                {
                    reasons.Add(new Reason("concurrency_limit_reached", $"Queue '{job.Queue}' has {running} running job(s), its concurrency limit of {max} across all workers: it starts when one of them finishes. PUT /queues/{job.Queue}/limits changes the limit."));
                }

                // The store's token bucket is not readable here: the limit binds when more jobs are ready than it lets start in a second.
                var ready = queue?[JobState.Ready] ?? 0;
                if (limits.RatePerSecond is { } rate && ready > rate)
                {
                    reasons.Add(new Reason("rate_limit_reached", $"Queue '{job.Queue}' starts at most {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} job(s) per second across all workers and {ready} are ready: it waits its turn (higher priority and older jobs first). PUT /queues/{job.Queue}/limits changes the limit."));
                }
            }

            if (CircuitBreakerActions.Holding(await store.ListCircuitsAsync(cancellationToken), job.Type) is { } breaker)
            {
                reasons.Add(new Reason("circuit_open", breaker.Manual
                    ? $"The circuit breaker of type '{job.Type}' was opened by hand for the whole fleet at {breaker.Since:u}: no worker leases its jobs. POST /circuit-breakers/{job.Type}/close (or bulwark circuit close {job.Type}) closes it."
                    : $"The circuit breaker of type '{job.Type}' is {breaker.State.ToName().Replace('_', '-')} on worker {breaker.WorkerId} after {breaker.ConsecutiveFailures} failure(s) in a row: that worker does not lease its jobs until {breaker.ResetAt:u}, then tries one."));
            }

            if (services.GetService(typeof(StorageCircuit)) is StorageCircuit storage && storage.State != StorageCircuitState.Closed)
            {
                reasons.Add(new Reason("storage_circuit_open", $"The storage circuit is {storage.State.ToString().ToLowerInvariant()} after repeated store errors: leasing is paused until a probe succeeds."));
            }

            var workers = await query.ListWorkersAsync(cancellationToken);
            var serving = workers.Count(w => w.State == WorkerState.Active && w.Registration.Queues.Contains(job.Queue, StringComparer.Ordinal));
            if (serving == 0)
            {
                reasons.Add(new Reason("no_worker", $"No active worker serves queue '{job.Queue}'; start one (bulwark worker --queues {job.Queue})."));
            }

            if (job.State is JobState.Ready or JobState.Scheduled && reasons.All(r => r.Code is "reclaimed" or "runs_alone"))
            {
                reasons.Add(new Reason("waiting_for_worker", $"It is ready; {serving} worker(s) serve queue '{job.Queue}' and will take it when a slot is free (higher priority and older jobs first)."));
            }
        }

        if (job.ExpiresAt is { } expires && !job.State.IsTerminal())
        {
            reasons.Add(new Reason("expires", $"If it has not completed by {expires:O} it goes to dead letter.") { Until = expires });
        }

        var runnable = job.State is JobState.Ready or JobState.Scheduled && job.RunAt <= now
            && reasons.All(r => r.Code is "waiting_for_worker" or "expires" or "reclaimed" or "runs_alone");
        return new Explanation(job.Id, job.State.ToName(), runnable, reasons.Count > 0 ? reasons[0].Detail : "", reasons);
    }

    /// <summary>A job taken back from a dead worker says from which and when, and whether its next attempt runs alone and why.</summary>
    private static void ExplainRecovery(JobSnapshot job, List<Reason> reasons)
    {
        if (job.LostLeases == 0)
        {
            return;
        }

        // The attempt the rule judges: the one running now, or the next one.
        var attempt = job.State == JobState.Running ? job.Attempt : job.Attempt + 1;
        var suspect = SuspectRule.IsSuspect(job.LostLeases, attempt, job.MaxAttempts);
        if (job.State != JobState.Running && job.Errors.LastOrDefault(e => e.Category == FailureCategory.Crash) is { } crash)
        {
            var isolation = suspect ? "" : $" Not isolated: one crash proves nothing (most are OOM kills, deploys or lost nodes), so attempt {attempt} runs beside other jobs.";
            reasons.Add(new Reason("reclaimed", $"Reclaimed from worker {crash.WorkerId ?? "(unknown)"} at {crash.EndedAt:O}: attempt {crash.Attempt} was lost with its worker ({crash.Message}) It has lost {job.LostLeases} lease(s) in all.{isolation}")
            {
                Worker = crash.WorkerId,
            });
        }

        if (suspect)
        {
            var how = job.State == JobState.Running
                ? "its worker runs it with no other job (leased beside others, it waits, lease held, until they finish)"
                : "the worker that takes it lets its other jobs finish, then runs it with no other job, while other workers keep leasing";
            reasons.Add(new Reason("runs_alone", $"Isolated as a suspect: attempt {attempt} runs alone because {SuspectRule.Why(job.LostLeases, attempt, job.MaxAttempts)}; {how}. If it crashes on its last attempt it goes to dead letter as poison."));
        }
    }

    /// <summary>The answer: whether the job can start now, the first reason in words, and every reason.</summary>
    /// <param name="Id">The job.</param>
    /// <param name="State">Its state's wire name.</param>
    /// <param name="Runnable">True when only a free slot stands between it and a worker.</param>
    /// <param name="Summary">The first reason's detail.</param>
    /// <param name="Reasons">Every reason, each with a stable code.</param>
    public sealed record Explanation(long Id, string State, bool Runnable, string Summary, IReadOnlyList<Reason> Reasons);

    /// <summary>One reason: a stable <paramref name="Code"/> (such as <c>queue_paused</c>, <c>reclaimed</c>, <c>runs_alone</c>) and what it means here.</summary>
    /// <param name="Code">Stable, for scripts.</param>
    /// <param name="Detail">In words, with what to do.</param>
    public sealed record Reason(string Code, string Detail)
    {
        /// <summary>The worker concerned (holding the lease, or the one it was reclaimed from).</summary>
        public string? Worker { get; init; }

        /// <summary>Until when this holds (lease expiry, scheduled start, lifetime).</summary>
        public DateTimeOffset? Until { get; init; }

        /// <summary>The dependencies it waits for.</summary>
        public IReadOnlyList<Dependency>? Dependencies { get; init; }
    }

    /// <summary>A dependency that has not completed.</summary>
    /// <param name="Id">The parent job.</param>
    /// <param name="State">Its state's wire name (or <c>missing</c>).</param>
    public sealed record Dependency(long Id, string State);
}
