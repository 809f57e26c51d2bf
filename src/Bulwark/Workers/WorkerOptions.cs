using Bulwark.Jobs;

namespace Bulwark.Workers;

/// <summary>How a worker runs. Checked at start-up; every problem is reported with what to change.</summary>
public sealed class WorkerOptions
{
    /// <summary>Stable name; a restart under the same name and host recovers the previous process's jobs at once. Default: host-pid.</summary>
    public string Name { get; set; } = $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}";

    /// <summary>Queues to serve, in order of preference. Default: <c>default</c>.</summary>
    public IList<string> Queues { get; } = new List<string>();

    /// <summary>
    /// Optional weights per queue (queue → weight ≥ 1). With weights, each leasing pass orders the queues by a weighted
    /// random draw, so a queue of weight 3 comes first about three times as often as one of weight 1. Without: list order.
    /// </summary>
    public IDictionary<string, int> QueueWeights { get; } = new Dictionary<string, int>(StringComparer.Ordinal);

    /// <summary>Jobs run at once. Default 10.</summary>
    public int Concurrency { get; set; } = 10;

    /// <summary>
    /// Jobs this worker may lease beyond its free slots and hold in a local buffer until a slot frees, so each lease call
    /// and each finish batch carries more jobs. Buffered leases are renewed by the heartbeat and fenced like any other;
    /// a buffered job never starts once its lease may have lapsed, and the buffer is given back unstarted (attempts
    /// refunded) at shutdown, when a circuit opens for its type, or when the worker stops leasing (memory limit, a job
    /// that must run alone). The trade: a buffered job waits here while another worker may be idle, and a job enqueued
    /// later with a higher priority can start after it. The buffer never holds more than the slots finish in about a
    /// second at the recent pace, so long jobs are not leased ahead. 0 turns it off. Default 200, measured best (drain
    /// 1.9× on PostgreSQL, 1.2× on SQLite against 0; docs/performance.md).
    /// </summary>
    public int LeaseAhead { get; set; } = 200;

    /// <summary>How long a lease lasts unless renewed. Default 10 s.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the heartbeat renews the registration and all leases. Default 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often to look for work when no in-process enqueue wakes the worker. Default 250 ms.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a graceful drain waits for running jobs before cancelling and releasing them. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a handler may ignore its cancelled token before it is abandoned and its slot freed. Default 5 s.</summary>
    public TimeSpan AbandonGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a drain's last flush may spend writing the outcomes still waiting (then each is written alone, released,
    /// or logged as left to lease expiry). Inside the 10 s that AddWorker adds to the host's shutdown timeout. Test seam.
    /// </summary>
    internal TimeSpan FinishBudget { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Abandoned handlers (still running, ignoring their token) allowed before the worker stops leasing and reports unready. Default 10.</summary>
    public int MaxAbandonedHandlers { get; set; } = 10;

    /// <summary>Soft limit on the process working set; above it the worker stops leasing until back under. Null: no limit.</summary>
    public long? MemoryLimitBytes { get; set; }

    /// <summary>Consecutive failures of a job type that open its circuit. Default 5.</summary>
    public int CircuitBreakerThreshold { get; set; } = 5;

    /// <summary>How long an opened circuit stays open before one trial job is let through. Default 30 s.</summary>
    public TimeSpan CircuitBreakerResetTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retry attempts that failed with a bug-like exception (category System). Default true; false fails them at once.</summary>
    public bool RetrySystemErrors { get; set; } = true;

    /// <summary>Most outcomes written to the store in one batch. Default 100.</summary>
    public int CompleterBatchSize { get; set; } = 100;

    /// <summary>The queues to serve, <c>default</c> when none were given.</summary>
    internal IReadOnlyList<string> EffectiveQueues => Queues.Count == 0 ? ["default"] : [.. Queues];

    /// <summary>Every problem with these options, each saying what to change; empty when they are fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 200)
        {
            errors.Add("The worker name must be 1-200 characters; set it with Name(\"w1\") or --name.");
        }

        foreach (var queue in EffectiveQueues)
        {
            try
            {
                JobValidator.ValidateQueue(queue);
            }
            catch (JobValidationException ex)
            {
                errors.Add($"Queue '{queue}': {ex.Message}");
            }
        }

        if (EffectiveQueues.Distinct(StringComparer.Ordinal).Count() != EffectiveQueues.Count)
        {
            errors.Add($"The queue list '{string.Join(',', EffectiveQueues)}' names a queue twice; list each queue once.");
        }

        foreach (var (queue, weight) in QueueWeights)
        {
            Check(EffectiveQueues.Contains(queue), $"A weight is given for queue '{queue}', which the worker does not serve; add it to the queues or drop its weight.");
            Check(weight >= 1, $"The weight of queue '{queue}' must be at least 1 (got {weight}).");
        }

        Check(Concurrency is >= 1 and <= 10_000, $"Concurrency must be between 1 and 10000 (got {Concurrency}); set it with Concurrency(n) or --concurrency.");
        Check(LeaseAhead is >= 0 and <= 10_000, $"LeaseAhead must be between 0 and 10000 jobs (got {LeaseAhead}); set it with LeaseAhead(n) or --lease-ahead, 0 to turn it off.");
        Check(LeaseDuration >= TimeSpan.FromMilliseconds(100), $"The lease duration must be at least 100ms (got {DurationText.Format(LeaseDuration)}); set --lease.");
        Check(HeartbeatInterval > TimeSpan.Zero && HeartbeatInterval < LeaseDuration,
            $"The heartbeat interval ({DurationText.Format(HeartbeatInterval)}) must be positive and shorter than the lease ({DurationText.Format(LeaseDuration)}), or leases expire between beats; lower --heartbeat or raise --lease.");
        Check(PollInterval > TimeSpan.Zero, $"The poll interval must be positive (got {DurationText.Format(PollInterval)}); set --poll like 250ms.");
        Check(ShutdownTimeout >= TimeSpan.Zero, "The shutdown timeout cannot be negative; set --shutdown-timeout like 30s.");
        Check(AbandonGracePeriod >= TimeSpan.Zero, "The abandon grace period cannot be negative.");
        Check(MaxAbandonedHandlers >= 1, $"MaxAbandonedHandlers must be at least 1 (got {MaxAbandonedHandlers}).");
        Check(MemoryLimitBytes is null or > 0, $"The memory limit must be positive (got {MemoryLimitBytes}); set --memory-limit-mb or leave it out for no limit.");
        Check(CircuitBreakerThreshold >= 1, $"The circuit breaker threshold must be at least 1 (got {CircuitBreakerThreshold}).");
        Check(CircuitBreakerResetTime > TimeSpan.Zero, "The circuit breaker reset time must be positive.");
        Check(CompleterBatchSize >= 1, $"The completer batch size must be at least 1 (got {CompleterBatchSize}).");
        return errors;

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }
    }
}
