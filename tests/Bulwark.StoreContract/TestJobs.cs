using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.StoreContract;

/// <summary>Small builders for the jobs, errors and workers that store tests enqueue and register.</summary>
public static class TestJobs
{
    /// <summary>A valid job with defaults a test can override with <c>with</c>.</summary>
    public static NewJob New(
        string queue = "default",
        string type = "test.job",
        int priority = 0,
        DateTimeOffset? runAt = null,
        int maxAttempts = 3,
        string? key = null,
        IReadOnlyList<long>? dependsOn = null,
        DateTimeOffset? expiresAt = null,
        string payload = "{}") =>
        JobValidator.Validate(new NewJob
        {
            Queue = queue,
            Type = type,
            Payload = payload,
            Priority = priority,
            RunAt = runAt,
            MaxAttempts = maxAttempts,
            Key = key,
            DependsOn = dependsOn ?? [],
            ExpiresAt = expiresAt,
        });

    /// <summary>The error record of a failed attempt.</summary>
    public static JobError Error(int attempt, DateTimeOffset at, FailureCategory category = FailureCategory.Temporary, string message = "boom", string? worker = "w1") =>
        new(attempt, worker, at, at, category, message, "at Handler.RunAsync()", "System.InvalidOperationException");

    /// <summary>A worker registration.</summary>
    public static WorkerRegistration Worker(string id, DateTimeOffset startedAt, string name = "worker", string host = "host-a", params string[] queues) =>
        new()
        {
            Id = id,
            Name = name,
            Host = host,
            ProcessId = 4242,
            Queues = queues.Length == 0 ? ["default"] : queues,
            Concurrency = 4,
            StartedAt = startedAt,
        };
}
