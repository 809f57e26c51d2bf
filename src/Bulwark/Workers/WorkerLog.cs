using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>Every log event of the worker runtime, with fixed event ids (1000–1099).</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(1000, LogLevel.Information, "Worker {WorkerId} registered: name {Name}, queues {Queues}, concurrency {Concurrency}")]
    public static partial void Registered(ILogger logger, string workerId, string name, string queues, int concurrency);

    [LoggerMessage(1001, LogLevel.Information, "Recovery completed, {Count} jobs reclaimed")]
    public static partial void RecoveryCompleted(ILogger logger, int count);

    [LoggerMessage(1002, LogLevel.Warning, "Job {JobId} ({Type}) attempt {Attempt} failed ({Category}) → {Outcome}: {Message}")]
    public static partial void AttemptFailed(ILogger logger, Exception? exception, long jobId, string type, int attempt, FailureCategory category, OutcomeKind outcome, string message);

    [LoggerMessage(1003, LogLevel.Warning, "Lease {Token} lost (reclaimed or finished elsewhere); cancelling its handler")]
    public static partial void LeaseLost(ILogger logger, LeaseToken token);

    [LoggerMessage(1004, LogLevel.Warning, "Outcome {Outcome} of job {JobId} refused ({Result}): another run owns it; counted as a duplicate execution")]
    public static partial void OutcomeRefused(ILogger logger, long jobId, OutcomeKind outcome, FenceResult result);

    [LoggerMessage(1005, LogLevel.Error, "Job {JobId} ({Type}) ignored its cancelled token for {Grace}; abandoned, recorded Timeout, slot freed")]
    public static partial void Abandoned(ILogger logger, long jobId, string type, TimeSpan grace);

    [LoggerMessage(1006, LogLevel.Warning, "Working set {MemoryBytes} bytes is above the soft limit {LimitBytes}; leasing paused")]
    public static partial void MemoryOverLimit(ILogger logger, long memoryBytes, long limitBytes);

    [LoggerMessage(1007, LogLevel.Information, "Working set {MemoryBytes} bytes is back under the soft limit; leasing resumed")]
    public static partial void MemoryBackUnder(ILogger logger, long memoryBytes);

    [LoggerMessage(1008, LogLevel.Warning, "Circuit for job type {Type} opened after {Failures} consecutive failures; not leasing it")]
    public static partial void CircuitOpened(ILogger logger, string type, int failures);

    [LoggerMessage(1009, LogLevel.Information, "Draining: stopped leasing; waiting up to {Timeout} for {Running} running jobs")]
    public static partial void Draining(ILogger logger, TimeSpan timeout, int running);

    [LoggerMessage(1010, LogLevel.Warning, "Shutdown timeout reached: cancelled and released {Count} jobs (attempt not charged)")]
    public static partial void Released(ILogger logger, int count);

    [LoggerMessage(1011, LogLevel.Information, "Worker {WorkerId} deregistered; drain complete")]
    public static partial void Deregistered(ILogger logger, string workerId);

    [LoggerMessage(1012, LogLevel.Warning, "Leasing failed; retrying at the next poll")]
    public static partial void LeaseFailed(ILogger logger, Exception exception);

    [LoggerMessage(1013, LogLevel.Warning, "Heartbeat failed; retrying at the next beat (leases expire unless a beat succeeds)")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(1014, LogLevel.Warning, "Writing {Count} outcomes failed; they stay queued and are retried")]
    public static partial void FinishFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(1015, LogLevel.Error, "{Count} abandoned handlers are still running (limit {Limit}); leasing stopped and the worker reports unready")]
    public static partial void TooManyAbandoned(ILogger logger, int count, int limit);

    [LoggerMessage(1016, LogLevel.Information, "Cancellation requested for job {JobId}; cancelling its handler")]
    public static partial void CancelRequested(ILogger logger, long jobId);

    [LoggerMessage(1017, LogLevel.Debug, "Job {JobId} ({Type}) completed in {Duration}")]
    public static partial void Completed(ILogger logger, long jobId, string type, TimeSpan duration);

    [LoggerMessage(1018, LogLevel.Error, "Deregistering worker {WorkerId} failed; maintenance declares it dead later")]
    public static partial void DeregisterFailed(ILogger logger, Exception exception, string workerId);

    [LoggerMessage(1019, LogLevel.Debug, "Leased {Count} jobs")]
    public static partial void Leased(ILogger logger, int count);

    [LoggerMessage(1020, LogLevel.Warning, "Job {JobId} ({Type}) attempt {Attempt} runs alone, leasing nothing else until it ends: {Why}")]
    public static partial void SuspectRunsAlone(ILogger logger, long jobId, string type, int attempt, string why);

    [LoggerMessage(1021, LogLevel.Information, "Holding job {JobId} ({Type}), which must run alone, until this worker's {Running} other job(s) end; gave back {GivenBack} more such job(s) for other workers")]
    public static partial void SuspectHeld(ILogger logger, long jobId, string type, int running, int givenBack);

    [LoggerMessage(1023, LogLevel.Information, "Over the memory soft limit: ran a full compacting collection; working set now {MemoryBytes} bytes (limit {LimitBytes})")]
    public static partial void MemoryCollected(ILogger logger, long memoryBytes, long limitBytes);

    [LoggerMessage(1024, LogLevel.Information, "Circuit for job type {Type} is half-open after {ResetTime}; leasing one trial job")]
    public static partial void CircuitHalfOpen(ILogger logger, string type, TimeSpan resetTime);

    [LoggerMessage(1025, LogLevel.Information, "Circuit for job type {Type} closed ({Cause}); leasing it again")]
    public static partial void CircuitClosed(ILogger logger, string type, string cause);

    [LoggerMessage(1026, LogLevel.Warning, "Circuit for job type {Type} opened by hand ({Scope}) since {Since}; not leasing it until it is closed")]
    public static partial void CircuitOpenedByHand(ILogger logger, string type, string scope, DateTimeOffset since);

    [LoggerMessage(1027, LogLevel.Warning, "Circuit for job type {Type} opened again: its half-open trial failed")]
    public static partial void CircuitReopened(ILogger logger, string type);

    [LoggerMessage(1028, LogLevel.Warning, "Reading the fleet's circuit breakers failed; keeping the last known ones and retrying at the next poll")]
    public static partial void FleetCircuitsFailed(ILogger logger, Exception exception);

    [LoggerMessage(1029, LogLevel.Warning, "Job {JobId} ({Type}) was held to run alone, but no heartbeat renewed its lease for a whole lease; not starting it (maintenance's reclaim takes it back)")]
    public static partial void HeldLeaseLapsed(ILogger logger, long jobId, string type);

    [LoggerMessage(1034, LogLevel.Warning, "Job {JobId} ({Type}) waited in the lease-ahead buffer, but no heartbeat renewed its lease for a whole lease; not starting it, giving it back")]
    public static partial void BufferedLeaseLapsed(ILogger logger, long jobId, string type);

    [LoggerMessage(1035, LogLevel.Information, "Gave back {Count} job(s) leased ahead and not started, for other workers: {Why}")]
    public static partial void BufferGivenBack(ILogger logger, int count, string why);

    [LoggerMessage(1036, LogLevel.Error, "The store refused the {Kind} outcome of job {JobId} each time it was written alone, while it took other writes; recording a failed attempt instead (retried or dead-lettered by the job's policy)")]
    public static partial void OutcomeReplaced(ILogger logger, Exception exception, long jobId, Storage.OutcomeKind kind);

    [LoggerMessage(1030, LogLevel.Information, "Shutdown: the outcome ({Kind}) of job {JobId} was written by the drain's last flush: {Fence}")]
    public static partial void WrittenAtShutdown(ILogger logger, long jobId, Storage.OutcomeKind kind, Storage.FenceResult fence);

    [LoggerMessage(1031, LogLevel.Warning, "Shutdown: the outcome ({Kind}) of job {JobId} could not be written before the shutdown deadline; its lease was released instead ({Fence}), so the job runs again")]
    public static partial void ReleasedAtShutdown(ILogger logger, Exception? exception, long jobId, Storage.OutcomeKind kind, Storage.FenceResult fence);

    [LoggerMessage(1032, LogLevel.Error, "Shutdown: the outcome ({Kind}) of job {JobId} could be neither written nor released before the shutdown deadline; the job stays running until its lease lapses, then maintenance reclaims it and it runs again")]
    public static partial void UnwrittenAtShutdown(ILogger logger, Exception? exception, long jobId, Storage.OutcomeKind kind);

    [LoggerMessage(1033, LogLevel.Warning, "Shutdown: {Left} outcomes were still waiting when the drain's batch writes ran out of time: {Written} written alone, {Released} released, {Unwritten} neither (left to lease expiry)")]
    public static partial void ShutdownFlushed(ILogger logger, int left, int written, int released, int unwritten);
}
