using Bulwark.Scheduling;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Npgsql;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// The lease sends the limits lookup and the first queue's lease together, before it knows whether that queue is limited:
/// a limited first queue must still get exactly its allowance, and the queues after it their share. And the lease plan
/// stays cheap when a backlog built up after the table's statistics were taken.
/// </summary>
public sealed class PostgresOneTripLeaseTests() : PostgresSchemaTests("pglease1")
{
    [Fact]
    public async Task A_limited_first_queue_gets_only_its_allowance_and_the_next_queue_fills_the_rest()
    {
        await Store.EnqueueAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New("capped"))]);
        await Store.EnqueueAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New("open"))]);
        await Store.SetQueueLimitsAsync("capped", new QueueLimits { MaxRunning = 2 });

        var leased = await Store.LeaseAsync(new LeaseRequest("w1", ["capped", "open"], 6, TimeSpan.FromMinutes(1)));

        Assert.Equal(["capped", "capped", "open", "open", "open", "open"], leased.Select(j => j.Queue));
        Assert.Empty(await Store.LeaseAsync(new LeaseRequest("w2", ["capped"], 6, TimeSpan.FromMinutes(1))));
    }

    [Fact]
    public async Task An_unlimited_first_queue_is_leased_in_priority_order_before_a_limited_second_queue()
    {
        var low = await Store.EnqueueAsync([TestJobs.New("first"), TestJobs.New("first")]);
        var high = await Store.EnqueueAsync([TestJobs.New("first", priority: 5)]);
        await Store.EnqueueAsync([.. Enumerable.Range(0, 3).Select(_ => TestJobs.New("second"))]);
        await Store.SetQueueLimitsAsync("second", new QueueLimits { MaxRunning = 1 });

        var leased = await Store.LeaseAsync(new LeaseRequest("w1", ["first", "second"], 10, TimeSpan.FromMinutes(1)));

        Assert.Equal([high[0].Id, low[0].Id, low[1].Id], leased.Take(3).Select(j => j.Id));
        Assert.Equal(["first", "first", "first", "second"], leased.Select(j => j.Queue));
    }

    [Fact]
    public async Task A_lease_under_a_backlog_the_statistics_have_not_seen_joins_its_picks_by_primary_key()
    {
        // Statistics taken while everything was finished: 'ready' looks rare to the planner.
        await Store.EnqueueAsync([.. Enumerable.Range(0, 500).Select(_ => TestJobs.New("plan"))]);
        var leased = await Store.LeaseAsync(new LeaseRequest("w1", ["plan"], 500, TimeSpan.FromMinutes(5)));
        await Store.FinishAsync([.. leased.Select(j => JobOutcome.Complete(j.Token))]);
        await using var connection = new NpgsqlConnection(PostgresTestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using (var analyze = new NpgsqlCommand($"ANALYZE \"{Schema}\".jobs", connection))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        await Store.EnqueueAsync([.. Enumerable.Range(0, 5000).Select(_ => TestJobs.New("plan"))]);

        var text = await LeasePlan.ExplainLeaseAsync(connection, Schema, "plan", 50);
        Assert.Contains("jobs_pkey", text, StringComparison.Ordinal);
        Assert.DoesNotContain("jobs_state_id_idx", text, StringComparison.Ordinal);
    }
}
