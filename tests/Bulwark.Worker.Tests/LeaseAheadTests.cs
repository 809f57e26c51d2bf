using System.Collections.Concurrent;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>
/// LeaseAhead: a worker leases beyond its free slots into a local buffer. The buffered jobs' leases are held like any
/// other (renewed, fenced); they start as slots free without another lease call, never after their lease may have
/// lapsed, and go back unstarted and uncharged when the worker will not start them soon.
/// </summary>
public sealed class LeaseAheadTests
{
    private readonly ConcurrentQueue<long> _started = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _gates = new();
    private volatile bool _openAll;

    [Fact]
    public async Task Buffered_jobs_start_as_slots_free_in_lease_order_without_another_lease_call()
    {
        await using var h = await StartAsync(concurrency: 2, leaseAhead: 6);
        var ids = await EnqueueAsync(h, 8);

        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        // All eight are leased to this worker in one call: two run, six wait in its buffer under its lease.
        foreach (var id in ids)
        {
            var job = await h.GetAsync(id);
            Assert.Equal(JobState.Running, job.State);
            Assert.Equal(h.Runtime.Id, job.LeaseOwner);
        }

        await ReleaseAsync(h, ids[0], ids[1]);

        // The next pass starts the next two from the buffer; a lease call would meet the injected failure.
        h.Faults.FailNextWrites(1);
        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        Assert.Equal(0, h.Faults.InjectedFailures);
        await WaitStartedAsync(h, 4);
        // Each pass's handlers start on the thread pool, in any order among themselves.
        Assert.Equal(ids[..2], _started.Take(2).Order());
        Assert.Equal(ids[2..4], _started.Skip(2).Order());
        h.Faults.Heal();

        await ReleaseAllAsync(h, ids);
        Assert.Equal(ids, _started.Order());
        foreach (var id in ids)
        {
            var job = await h.GetAsync(id);
            Assert.Equal(JobState.Completed, job.State);
            Assert.Equal(1, job.Attempt);
            Assert.Empty(job.Errors);
        }
    }

    [Fact]
    public async Task Heartbeats_renew_buffered_leases_so_maintenance_reclaims_none_of_them()
    {
        await using var h = await StartAsync(concurrency: 1, leaseAhead: 3);
        var ids = await EnqueueAsync(h, 4);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());

        for (var beat = 0; beat < 5; beat++)
        {
            h.Time.Advance(h.Options.LeaseDuration * 0.6);
            Assert.NotNull(await h.Runtime.HeartbeatOnceAsync());
            Assert.Equal(0, (await h.Maintenance.RunOnceAsync()).Reclaim.Total);
        }

        await ReleaseAllAsync(h, ids);
        foreach (var id in ids)
        {
            var job = await h.GetAsync(id);
            Assert.Equal(JobState.Completed, job.State);
            Assert.DoesNotContain(job.Errors, e => e.Category == FailureCategory.Crash);
        }
    }

    [Fact]
    public async Task A_buffered_job_whose_lease_may_have_lapsed_is_never_started_here()
    {
        await using var h = await StartAsync(concurrency: 1, leaseAhead: 2);
        var ids = await EnqueueAsync(h, 3);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());

        // No heartbeat for longer than a lease (a starved or partitioned worker): maintenance takes the buffered jobs back
        // and another worker runs them.
        h.Time.Advance(h.Options.LeaseDuration + TimeSpan.FromSeconds(1));
        var reclaimed = (await h.Maintenance.RunOnceAsync()).Reclaim.Reclaimed;
        Assert.Equal(ids.Order(), reclaimed.Order());
        await using var other = await WorkerHarness.StartAsync(Handlers, o => o.Name = "other-worker", sharing: h);
        Assert.Equal(3, await other.Runtime.RunOnceAsync());

        // The first handler returns; the slot frees, but nothing from the buffer may start: both leases lapsed.
        Gate(ids[0]).SetResult();
        await h.SettleAsync();
        Assert.Equal(0, await h.Runtime.RunOnceAsync());
        await h.SettleAsync();
        foreach (var id in ids[1..])
        {
            var job = await h.GetAsync(id);
            Assert.Equal(other.Runtime.Id, job.LeaseOwner);
            Assert.Single(_started, s => s == id);
        }
    }

    [Fact]
    public async Task A_drain_gives_buffered_jobs_back_unstarted_with_their_attempt_refunded()
    {
        await using var h = await StartAsync(concurrency: 1, leaseAhead: 3);
        var ids = await EnqueueAsync(h, 4);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Gate(ids[0]).SetResult();

        Assert.Equal(0, await h.Runtime.DrainAsync(CancellationToken.None));
        Assert.Equal(JobState.Completed, (await h.GetAsync(ids[0])).State);
        foreach (var id in ids[1..])
        {
            var job = await h.GetAsync(id);
            Assert.Equal(JobState.Ready, job.State);
            Assert.Equal(0, job.Attempt);
            Assert.Null(job.LeaseOwner);
            Assert.Contains("lease-ahead buffer", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
        }

        Assert.Equal([ids[0]], _started.ToArray());
    }

    [Fact]
    public async Task A_cancel_requested_for_a_buffered_job_ends_it_cancelled_without_starting()
    {
        await using var h = await StartAsync(concurrency: 1, leaseAhead: 2);
        var ids = await EnqueueAsync(h, 3);
        Assert.Equal(1, await h.Runtime.RunOnceAsync());

        Assert.Equal(CancelResult.CancellationRequested, await h.Store.CancelAsync(ids[2]));
        Assert.NotNull(await h.Runtime.HeartbeatOnceAsync());
        await ReleaseAllAsync(h, ids[..2]);

        var cancelled = await h.GetAsync(ids[2]);
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.DoesNotContain(ids[2], _started);
        Assert.Equal(JobState.Completed, (await h.GetAsync(ids[1])).State);
    }

    [Fact]
    public async Task An_open_circuit_gives_its_types_buffered_jobs_back_and_the_others_still_start()
    {
        await using var h = await StartAsync(concurrency: 1, leaseAhead: 3);
        var first = await h.EnqueueAsync("gated");
        var other = await h.EnqueueAsync("other");
        var gated = await h.EnqueueAsync("gated");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());

        Gate(first).SetResult();
        await h.SettleAsync();
        h.Runtime.Circuits.Open("gated");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Gate(other).SetResult();
        await h.SettleAsync();

        Assert.Equal([first, other], _started.ToArray());
        var back = await h.GetAsync(gated);
        Assert.Equal(JobState.Ready, back.State);
        Assert.Equal(0, back.Attempt);
        Assert.Contains("circuit", Assert.Single(back.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_lease_ahead_a_pass_leases_only_its_free_slots()
    {
        await using var h = await StartAsync(concurrency: 2, leaseAhead: 0);
        var ids = await EnqueueAsync(h, 5);
        Assert.Equal(2, await h.Runtime.RunOnceAsync());
        Assert.Equal(3, (await Task.WhenAll(ids.Select(h.GetAsync))).Count(j => j.State == JobState.Ready));
    }

    [Fact]
    public async Task A_worker_whose_jobs_take_long_leases_nothing_ahead_so_other_workers_can_start_them()
    {
        await using var h = await StartAsync(concurrency: 1, leaseAhead: 5, warmUp: false);
        var warm = await h.EnqueueAsync("warm");
        Assert.Equal(1, await h.Runtime.RunOnceAsync());

        // Before any job ended the pace is unknown: nothing was leased ahead.
        var waiting = await EnqueueAsync(h, 3);
        Assert.All(await Task.WhenAll(waiting.Select(h.GetAsync)), j => Assert.Equal(JobState.Ready, j.State));

        // That job took 10 s: one slot finishes no job within the one-second horizon, so the buffer stays empty.
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.NotNull(await h.Runtime.HeartbeatOnceAsync());
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Gate(warm).SetResult();
        await h.SettleAsync();
        Assert.Equal(1, await h.Runtime.RunOnceAsync());
        Assert.Equal(2, (await Task.WhenAll(waiting.Select(h.GetAsync))).Count(j => j.State == JobState.Ready));
    }

    private void Handlers(BulwarkBuilder b)
    {
        b.AddHandler<Empty>("warm", async (_, ctx) => await Gate(ctx.JobId).Task.WaitAsync(ctx.CancellationToken));
        foreach (var type in (string[])["gated", "other"])
        {
            b.AddHandler<Empty>(type, async (_, ctx) =>
            {
                _started.Enqueue(ctx.JobId);
                var gate = Gate(ctx.JobId);
                if (!_openAll)
                {
                    await gate.Task.WaitAsync(ctx.CancellationToken);
                }
            });
        }
    }

    private TaskCompletionSource Gate(long id) => _gates.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>
    /// A worker with <paramref name="leaseAhead"/>; with <paramref name="warmUp"/>, one instant job has run first, so the
    /// worker knows its jobs are short (it leases ahead only what its slots finish within a second at the recent pace).
    /// </summary>
    private async Task<WorkerHarness> StartAsync(int concurrency, int leaseAhead, bool warmUp = true)
    {
        var h = await WorkerHarness.StartAsync(Handlers, o =>
        {
            o.Concurrency = concurrency;
            o.LeaseAhead = leaseAhead;
        });
        if (warmUp)
        {
            var warm = await h.EnqueueAsync("warm");
            Gate(warm).SetResult();
            Assert.Equal(1, await h.Runtime.RunOnceAsync());
            await h.WaitForStateAsync(warm, JobState.Completed);
        }

        return h;
    }

    private static async Task<long[]> EnqueueAsync(WorkerHarness h, int count)
    {
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = await h.EnqueueAsync("gated");
        }

        return ids;
    }

    private async Task WaitStartedAsync(WorkerHarness h, int count) =>
        await h.SettleAsync(() => Task.FromResult(_started.Count >= count));

    private async Task ReleaseAsync(WorkerHarness h, params long[] ids)
    {
        foreach (var id in ids)
        {
            Gate(id).SetResult();
        }

        await h.SettleAsync();
    }

    /// <summary>Runs passes, letting each started job finish, until every one of <paramref name="ids"/> completed.</summary>
    private async Task ReleaseAllAsync(WorkerHarness h, IReadOnlyList<long> ids)
    {
        // Set before the gates are opened: a handler that makes its gate after this loop sees the flag.
        _openAll = true;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            foreach (var gate in _gates.Values)
            {
                gate.TrySetResult();
            }

            await h.SettleAsync();
            var jobs = await Task.WhenAll(ids.Select(h.GetAsync));
            if (jobs.All(j => j.State.IsTerminal()))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"jobs still live: {string.Join(", ", jobs.Where(j => !j.State.IsTerminal()).Select(j => $"{j.Id} {j.State}"))}");
            await h.Runtime.RunOnceAsync();
        }
    }
}
