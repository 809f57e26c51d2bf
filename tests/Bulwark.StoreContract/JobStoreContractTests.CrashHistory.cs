using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>
/// The crash history a worker isolates suspects by (docs/worker.md "Suspects run alone"): reclaim counts each lost lease,
/// the lease hands the count out, and a job lost beside others on its last attempt at its first crash is not poison yet.
/// </summary>
public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task Each_reclaim_counts_a_lost_lease_and_the_next_lease_hands_the_count_out()
    {
        var id = await EnqueueAsync(maxAttempts: 5);
        Assert.Equal(0, (await LeaseOneAsync()).LostLeases);
        for (var crashes = 1; crashes <= 2; crashes++)
        {
            Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
            Assert.Equal([id], (await Store.ReclaimAsync(DeadAfter)).Reclaimed);
            var again = await LeaseOneAsync();
            Assert.Equal(crashes, again.LostLeases);
            Assert.Equal(crashes + 1, again.Attempt);
            Assert.Equal(crashes, (await GetAsync(id)).LostLeases);
        }
    }

    [Fact]
    public async Task A_job_lost_beside_others_on_its_last_attempt_at_its_first_crash_gets_the_attempt_back_instead_of_poison()
    {
        var last = await EnqueueAsync(maxAttempts: 1);
        var neighbour = await EnqueueAsync(maxAttempts: 3);
        Assert.Equal(2, (await LeaseAsync(max: 2, worker: "w1")).Count);
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));

        var result = await Store.ReclaimAsync(DeadAfter);

        Assert.Empty(result.Poisoned);
        Assert.Equal([last, neighbour], result.Reclaimed.Order().ToArray());
        var job = await GetAsync(last);
        Assert.Equal(JobState.Ready, job.State);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(1, job.LostLeases);
        Assert.Contains("given back", Assert.Single(job.Errors).Message, StringComparison.Ordinal);
        Assert.Equal(1, (await GetAsync(neighbour)).Attempt);

        // Its next attempt is its last after a crash: it runs alone, and a crash then is conclusive.
        var alone = await LeaseOneAsync("w2");
        Assert.Equal(last, alone.Id);
        Assert.Equal(1, alone.Attempt);
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        Assert.Equal([last], (await Store.ReclaimAsync(DeadAfter)).Poisoned);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(last)).State);
    }

    [Fact]
    public async Task A_job_lost_alone_on_its_last_attempt_is_poison_at_once()
    {
        var id = await EnqueueAsync(maxAttempts: 1);
        await LeaseOneAsync();
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));

        Assert.Equal([id], (await Store.ReclaimAsync(DeadAfter)).Poisoned);
        Assert.Equal(1, (await GetAsync(id)).LostLeases);
    }

    [Fact]
    public async Task A_job_lost_beside_others_on_its_last_attempt_after_an_earlier_crash_is_poison()
    {
        var id = await EnqueueAsync(maxAttempts: 2);
        await LeaseOneAsync("w1");
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));
        Assert.Equal([id], (await Store.ReclaimAsync(DeadAfter)).Reclaimed);

        await EnqueueAsync();
        Assert.Equal(2, (await LeaseAsync(max: 2, worker: "w2")).Count);
        Time.Advance(LeaseLength + TimeSpan.FromSeconds(1));

        Assert.Equal([id], (await Store.ReclaimAsync(DeadAfter)).Poisoned);
        var job = await GetAsync(id);
        Assert.Equal(2, job.LostLeases);
        Assert.Equal(2, job.Attempt);
    }
}
