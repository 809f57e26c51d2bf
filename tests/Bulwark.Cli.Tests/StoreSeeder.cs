using Bulwark.Jobs;
using Bulwark.Sqlite;
using Bulwark.Storage;

namespace Bulwark.Cli.Tests;

/// <summary>Acts as a worker on the test's store, to reach states that only workers produce.</summary>
public static class StoreSeeder
{
    public static WorkerRegistration Worker(string name) => new()
    {
        Id = name + "-" + Guid.NewGuid().ToString("N")[..8],
        Name = name,
        Host = "test-host",
        ProcessId = 4242,
        Queues = ["default"],
        Concurrency = 4,
        StartedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>Leases every ready job of <paramref name="queue"/> and dead-letters it with an error record.</summary>
    public static async Task DeadLetterAllAsync(string storePath, string queue)
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = storePath });
        var worker = Worker("seeder");
        await store.RegisterWorkerAsync(worker);
        var leased = await store.LeaseAsync(new LeaseRequest(worker.Id, [queue], 100, TimeSpan.FromMinutes(1)));
        Assert.NotEmpty(leased);
        var outcomes = leased.Select(job => JobOutcome.DeadLetter(
            job.Token,
            new JobError(job.Attempt, worker.Id, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, FailureCategory.Temporary, "upstream is down", "at Demo.Handler.Run()", "System.Net.Http.HttpRequestException"),
            "attempts exhausted")).ToArray();
        var results = await store.FinishAsync(outcomes);
        Assert.Equal(leased.Count, results.Count);
        await store.DeregisterWorkerAsync(worker.Id);
    }

    /// <summary>Leases every ready job of <paramref name="queue"/> with a clock an hour behind, so the leases are already expired.</summary>
    public static async Task<WorkerRegistration> LeaseExpiredAsync(string storePath, string queue)
    {
        var options = new SqliteStoreOptions { Path = storePath, Time = new ShiftedTimeProvider(TimeSpan.FromHours(-1)) };
        await using var store = await SqliteJobStore.OpenAsync(options);
        var worker = Worker("stalling") with { StartedAt = options.Time.GetUtcNow() };
        await store.RegisterWorkerAsync(worker);
        var leased = await store.LeaseAsync(new LeaseRequest(worker.Id, [queue], 100, TimeSpan.FromSeconds(10)));
        Assert.NotEmpty(leased);
        return worker;
    }
}
