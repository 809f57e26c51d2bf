using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Worker.Tests;

/// <summary>Leased jobs and running entries made by hand, for the unit tests of the runtime's parts.</summary>
internal static class TestJobs
{
    public static LeasedJob Leased(long id, string type = "work", int attempt = 1, int maxAttempts = 3, int lostLeases = 0, TimeSpan? timeout = null)
    {
        var now = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        return new LeasedJob
        {
            Token = new LeaseToken(id, 1),
            Queue = "default",
            Type = type,
            Payload = "{}",
            Attempt = attempt,
            MaxAttempts = maxAttempts,
            Timeout = timeout ?? TimeSpan.FromMinutes(5),
            Backoff = BackoffPolicy.Fixed(TimeSpan.FromSeconds(1)),
            CreatedAt = now,
            RunAt = now,
            LeaseExpiresAt = now.AddSeconds(10),
            LostLeases = lostLeases,
        };
    }

    public static LeasedJob Suspect(long id, string type = "work") => Leased(id, type, attempt: 3, maxAttempts: 5, lostLeases: 2);

    /// <summary>A running entry whose handler is <paramref name="execution"/> (a handler still running, by default).</summary>
    public static RunningJob Running(FakeTimeProvider time, LeasedJob job, Task? execution = null, bool trial = false) =>
        new(job, new CancellationTokenSource(), time.GetTimestamp(), time.GetUtcNow(), trial)
        {
            Execution = execution ?? new TaskCompletionSource().Task,
        };

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
}
