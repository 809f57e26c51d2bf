namespace Bulwark.Diagnostics;

/// <summary>Every telemetry name Bulwark emits, in one place. Prometheus names follow from these (dots become
/// underscores, counters gain <c>_total</c>, units become suffixes), for example <c>bulwark_jobs_enqueued_total</c>.</summary>
public static class Telemetry
{
    /// <summary>The one <see cref="System.Diagnostics.Metrics.Meter"/> name.</summary>
    public const string MeterName = "Bulwark";

    /// <summary>The one <see cref="System.Diagnostics.ActivitySource"/> name.</summary>
    public const string ActivitySourceName = "Bulwark";

    /// <summary>The Prometheus metric names of DESIGN.md §4, as a scrape shows them.</summary>
    public static IReadOnlyList<string> PrometheusNames { get; } =
    [
        "bulwark_jobs_enqueued_total",
        "bulwark_jobs_completed_total",
        "bulwark_jobs_failed_total",
        "bulwark_jobs_retried_total",
        "bulwark_jobs_dead_lettered_total",
        "bulwark_job_duration_seconds",
        "bulwark_job_wait_seconds",
        "bulwark_queue_depth",
        "bulwark_process_workers",
        "bulwark_workers",
        "bulwark_fleet_utilization",
        "bulwark_queue_oldest_ready_age_seconds",
        "bulwark_jobs_duplicate_executions_total",
        "bulwark_worker_utilization",
        "bulwark_worker_memory_bytes",
        "bulwark_stalled_jobs_reclaimed_total",
        "bulwark_recovery_jobs_reclaimed_total",
        "bulwark_lease_lost_total",
        "bulwark_persistence_errors_total",
        "bulwark_circuit_breaker_state",
    ];

    internal const string JobsEnqueued = "bulwark.jobs.enqueued";
    internal const string JobsCompleted = "bulwark.jobs.completed";
    internal const string JobsFailed = "bulwark.jobs.failed";
    internal const string JobsRetried = "bulwark.jobs.retried";
    internal const string JobsDeadLettered = "bulwark.jobs.dead_lettered";
    internal const string JobDuration = "bulwark.job.duration";
    internal const string JobWait = "bulwark.job.wait";
    internal const string QueueDepth = "bulwark.queue.depth";
    internal const string ProcessWorkers = "bulwark.process.workers";
    internal const string FleetWorkers = "bulwark.workers";
    internal const string FleetUtilization = "bulwark.fleet.utilization";
    internal const string QueueOldestReadyAge = "bulwark.queue.oldest_ready_age";
    internal const string WorkerUtilization = "bulwark.worker.utilization";
    internal const string WorkerMemory = "bulwark.worker.memory";
    internal const string StalledReclaimed = "bulwark.stalled_jobs.reclaimed";
    internal const string RecoveryReclaimed = "bulwark.recovery_jobs.reclaimed";
    internal const string LeaseLost = "bulwark.lease.lost";
    internal const string PersistenceErrors = "bulwark.persistence.errors";
    internal const string CircuitBreakerState = "bulwark.circuit_breaker.state";
    internal const string DuplicateExecutions = "bulwark.jobs.duplicate_executions";
    internal const string QueueWarningDepth = "bulwark.queue.warning_depth";
    internal const string QueueHardLimit = "bulwark.queue.hard_limit";
}
