using Bulwark.Jobs;
using Bulwark.StoreContract;
using Bulwark.Storage;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>Several store instances (separate connection pools, as separate machines would have) on one schema at once.</summary>
public sealed class PostgresFleetTests : IAsyncLifetime
{
    private readonly string _schema = PostgresTestDatabase.NewSchema("fleet");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private PostgresJobStore[] _nodes = [];

    public async Task InitializeAsync()
    {
        _nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostgresJobStore.OpenAsync(new PostgresStoreOptions
        {
            ConnectionString = PostgresTestDatabase.ConnectionString,
            Schema = _schema,
            StoreClockOverride = _time,
            Listen = false,
        })));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await PostgresTestDatabase.DropSchemaAsync(_schema);
    }

    [Fact]
    public async Task Three_nodes_promoting_at_once_promote_each_due_job_exactly_once()
    {
        const int Count = 300;
        await _nodes[0].EnqueueAsync(Enumerable.Range(0, Count).Select(_ => TestJobs.New(runAt: _time.GetUtcNow().AddSeconds(10))).ToArray());
        _time.Advance(TimeSpan.FromSeconds(11));

        var promoted = await Task.WhenAll(Enumerable.Range(0, 9).Select(i => Task.Run(() => _nodes[i % 3].PromoteDueAsync())));

        Assert.Equal(Count, promoted.Sum());
        var stats = (await _nodes[1].GetQueuesAsync()).Single(q => q.Queue == "default");
        Assert.Equal(Count, stats[JobState.Ready]);
        Assert.Equal(0, stats[JobState.Scheduled]);
    }

    [Fact]
    public async Task Three_nodes_reclaiming_at_once_charge_each_expired_lease_once()
    {
        const int Count = 120;
        await _nodes[0].EnqueueAsync(Enumerable.Range(0, Count).Select(_ => TestJobs.New()).ToArray());
        var leased = await _nodes[1].LeaseAsync(new LeaseRequest("gone", ["default"], Count, TimeSpan.FromSeconds(10)));
        Assert.Equal(Count, leased.Count);
        _time.Advance(TimeSpan.FromSeconds(11));

        var passes = await Task.WhenAll(Enumerable.Range(0, 9).Select(i => Task.Run(() => _nodes[i % 3].ReclaimAsync(TimeSpan.FromMinutes(1)))));

        var reclaimed = passes.SelectMany(p => p.Reclaimed).ToList();
        Assert.Equal(Count, reclaimed.Count);
        Assert.Equal(Count, reclaimed.Distinct().Count());
        foreach (var job in (await _nodes[2].ListJobsAsync(new JobListQuery(Limit: 1000))).Items)
        {
            Assert.Equal(JobState.Ready, job.State);
            Assert.Single(job.Errors);
            Assert.Equal(FailureCategory.Crash, job.Errors[0].Category);
        }
    }

    [Fact]
    public async Task Three_nodes_leasing_at_once_never_share_a_job()
    {
        const int Count = 400;
        await _nodes[0].EnqueueAsync(Enumerable.Range(0, Count).Select(i => TestJobs.New(priority: i % 4)).ToArray());

        var takes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var mine = new List<long>();
            while (true)
            {
                var got = await _nodes[i % 3].LeaseAsync(new LeaseRequest($"w{i}", ["default"], 7, TimeSpan.FromMinutes(1)));
                if (got.Count == 0)
                {
                    return mine;
                }

                mine.AddRange(got.Select(g => g.Id));
            }
        })));

        var all = takes.SelectMany(t => t).ToList();
        Assert.Equal(Count, all.Count);
        Assert.Equal(Count, all.Distinct().Count());
    }

    [Fact]
    public async Task Concurrent_writes_share_transactions_through_group_commit()
    {
        var node = _nodes[2];
        var before = node.WriterStats;

        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => node.EnqueueAsync([TestJobs.New()])));

        var after = node.WriterStats;
        var operations = after.Operations - before.Operations;
        var commits = after.Commits - before.Commits;
        Assert.Equal(200, operations);
        Assert.True(commits < operations / 2, $"200 concurrent enqueues took {commits} commits; group commit should batch them");
    }
}
