using Bulwark.StoreContract;
using Bulwark.Storage;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// Two machines whose clocks disagree by two hours share one database: the database clock judges leases, so the one
/// running ahead cannot steal the other's lease and the one running behind does not lose its own.
/// </summary>
public sealed class PostgresClockSkewTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly string _schema = PostgresTestDatabase.NewSchema("skew");
    private PostgresJobStore _behind = null!;
    private PostgresJobStore _ahead = null!;

    public async Task InitializeAsync()
    {
        _behind = await OpenAsync(new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-1)));
        _ahead = await OpenAsync(new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1)));
    }

    public async Task DisposeAsync()
    {
        await _behind.DisposeAsync();
        await _ahead.DisposeAsync();
        await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    private Task<PostgresJobStore> OpenAsync(TimeProvider skewed) =>
        PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = PostgresTestDatabase.ConnectionString, Schema = _schema, Time = skewed, Listen = false });

    [Fact]
    public async Task A_worker_whose_clock_runs_an_hour_ahead_cannot_steal_a_lease()
    {
        var owner = TestJobs.Worker("w-behind", DateTimeOffset.UtcNow.AddHours(-1), "behind");
        await _behind.RegisterWorkerAsync(owner);
        var id = (await _behind.EnqueueAsync([TestJobs.New()]))[0].Id;
        var leased = Assert.Single(await _behind.LeaseAsync(new LeaseRequest(owner.Id, ["default"], 1, Lease)));
        var dbNow = await DatabaseNowAsync();
        Assert.InRange(leased.LeaseExpiresAt, dbNow + Lease - TimeSpan.FromSeconds(10), dbNow + Lease);

        var thief = TestJobs.Worker("w-ahead", DateTimeOffset.UtcNow.AddHours(1), "ahead");
        await _ahead.RegisterWorkerAsync(thief);
        Assert.Empty(await _ahead.LeaseAsync(new LeaseRequest(thief.Id, ["default"], 1, Lease)));
        var reclaim = await _ahead.ReclaimAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(reclaim.Reclaimed);
        Assert.Empty(reclaim.DeadWorkers);
        Assert.Empty(await _ahead.ListStalledAsync());

        Assert.Equal(FenceResult.Ok, Assert.Single(await _behind.FinishAsync([JobOutcome.Complete(leased.Token)])));
        Assert.Equal(Bulwark.Jobs.JobState.Completed, (await _ahead.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task A_worker_whose_clock_runs_an_hour_behind_keeps_its_lease_by_heartbeat()
    {
        var owner = TestJobs.Worker("w-behind", DateTimeOffset.UtcNow.AddHours(-1), "behind");
        await _behind.RegisterWorkerAsync(owner);
        await _behind.EnqueueAsync([TestJobs.New()]);
        var leased = Assert.Single(await _behind.LeaseAsync(new LeaseRequest(owner.Id, ["default"], 1, Lease)));

        var beat = await _behind.HeartbeatAsync(new WorkerHeartbeat(owner with { ActiveJobs = 1 }, [leased.Token], Lease));
        var reclaim = await _ahead.ReclaimAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(beat.Lost);
        Assert.Equal(1, beat.Renewed);
        Assert.Empty(reclaim.Reclaimed);
        Assert.DoesNotContain(owner.Id, reclaim.DeadWorkers);
        var job = await _ahead.GetJobAsync(leased.Id);
        Assert.Equal(owner.Id, job!.LeaseOwner);
        var dbNow = await DatabaseNowAsync();
        Assert.InRange(job.LeaseExpiresAt!.Value, dbNow + Lease - TimeSpan.FromSeconds(10), dbNow + Lease);
        Assert.Equal(FenceResult.Ok, await _behind.SaveProgressAsync(leased.Token, 50, null));
    }

    private static async Task<DateTimeOffset> DatabaseNowAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var now = new NpgsqlCommand("SELECT now()", connection);
        return new DateTimeOffset((DateTime)(await now.ExecuteScalarAsync())!);
    }
}
