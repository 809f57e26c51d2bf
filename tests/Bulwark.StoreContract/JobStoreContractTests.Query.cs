using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task GetJob_of_an_unknown_id_is_null()
    {
        Assert.Null(await Query.GetJobAsync(999_999));
    }

    [Fact]
    public async Task FindByKey_prefers_the_live_job_then_the_newest_that_held_the_key()
    {
        Assert.Null(await Query.FindByKeyAsync("k"));
        var first = (await Store.EnqueueAsync([TestJobs.New(key: "k")]))[0].Id;
        Assert.Equal(first, (await Query.FindByKeyAsync("k"))!.Id);

        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync()).Token));
        Assert.Equal(first, (await Query.FindByKeyAsync("k"))!.Id);

        var second = (await Store.EnqueueAsync([TestJobs.New(key: "k")]))[0].Id;
        Assert.Equal(second, (await Query.FindByKeyAsync("k"))!.Id);
        await Store.CancelAsync(second);
        Assert.Equal(second, (await Query.FindByKeyAsync("k"))!.Id);
    }

    [Fact]
    public async Task ListJobs_pages_newest_first_without_gaps_or_duplicates()
    {
        var ids = new List<long>();
        for (var i = 0; i < 25; i++)
        {
            ids.Add(await EnqueueAsync(i % 2 == 0 ? "even" : "odd"));
        }

        var seen = new List<long>();
        long? cursor = null;
        var pages = 0;
        do
        {
            var page = await Query.ListJobsAsync(new JobListQuery(BeforeId: cursor, Limit: 10));
            Assert.True(page.Items.Count <= 10);
            seen.AddRange(page.Items.Select(j => j.Id));
            cursor = page.NextCursor;
            pages++;
            Assert.True(pages < 10, "paging did not end");
        }
        while (cursor is not null);

        Assert.Equal(ids.OrderByDescending(i => i), seen);
    }

    [Fact]
    public async Task The_last_page_has_no_cursor()
    {
        for (var i = 0; i < 5; i++)
        {
            await EnqueueAsync();
        }

        var page = await Query.ListJobsAsync(new JobListQuery(Limit: 10));

        Assert.Equal(5, page.Items.Count);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task ListJobs_filters_by_queue_and_state()
    {
        var a1 = await EnqueueAsync("a");
        var a2 = await EnqueueAsync("a");
        await EnqueueAsync("b");
        var running = await LeaseOneAsync(queue: "a");
        Assert.Equal(a1, running.Id);

        var inA = await Query.ListJobsAsync(new JobListQuery(Queue: "a"));
        var readyInA = await Query.ListJobsAsync(new JobListQuery(Queue: "a", State: JobState.Ready));
        var runningAnywhere = await Query.ListJobsAsync(new JobListQuery(State: JobState.Running));

        Assert.Equal([a2, a1], inA.Items.Select(j => j.Id));
        Assert.Equal([a2], readyInA.Items.Select(j => j.Id));
        Assert.Equal([a1], runningAnywhere.Items.Select(j => j.Id));
    }

    [Fact]
    public async Task Filtered_paging_has_no_gaps_or_duplicates()
    {
        var expected = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            var id = await EnqueueAsync(i % 3 == 0 ? "x" : "y");
            if (i % 3 == 0)
            {
                expected.Add(id);
            }
        }

        var seen = new List<long>();
        long? cursor = null;
        do
        {
            var page = await Query.ListJobsAsync(new JobListQuery(Queue: "x", BeforeId: cursor, Limit: 3));
            seen.AddRange(page.Items.Select(j => j.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null && seen.Count < 100);

        Assert.Equal(expected.OrderByDescending(i => i), seen);
    }

    [Fact]
    public async Task GetQueues_counts_every_state_per_queue_and_shows_paused_queues()
    {
        await EnqueueAsync("a");
        await EnqueueAsync("a");
        await EnqueueAsync(TestJobs.New("a", runAt: Now.AddHours(1)));
        await LeaseOneAsync(queue: "a");
        await EnqueueAsync("b");
        await Store.SetQueuePausedAsync("empty", true);

        var queues = await Query.GetQueuesAsync();

        var a = queues.Single(q => q.Queue == "a");
        Assert.Equal(1, a[JobState.Ready]);
        Assert.Equal(1, a[JobState.Running]);
        Assert.Equal(1, a[JobState.Scheduled]);
        Assert.Equal(0, a[JobState.Completed]);
        Assert.Equal(JobStates.All.Count, a.Counts.Count);
        Assert.False(a.Paused);
        Assert.Equal(Now, a.OldestReadyAt);
        Assert.Equal(1, queues.Single(q => q.Queue == "b")[JobState.Ready]);
        var empty = queues.Single(q => q.Queue == "empty");
        Assert.True(empty.Paused);
        Assert.All(JobStates.All, s => Assert.Equal(0, empty[s]));
    }
}
