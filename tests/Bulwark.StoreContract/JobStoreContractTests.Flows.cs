using Bulwark.Client;
using Bulwark.Flows;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

/// <summary>Flows enqueued through <see cref="JobClient"/>: one atomic batch whose edges the store resolves as parents finish.</summary>
public abstract partial class JobStoreContractTests
{
    private JobClient Client => new(Store, Query, time: Time);

    /// <summary>Leases and completes ready jobs until none is left; returns the node names in the order they ran.</summary>
    private async Task<List<string>> RunToEndAsync(IReadOnlyDictionary<string, long> ids)
    {
        var names = ids.ToDictionary(p => p.Value, p => p.Key);
        var order = new List<string>();
        while (await LeaseAsync(100, "w1", null, "docs") is { Count: > 0 } batch)
        {
            order.AddRange(batch.Select(j => names[j.Token.JobId]).Order(StringComparer.Ordinal));
            await Store.FinishAsync(batch.Select(j => JobOutcome.Complete(j.Token)).ToArray());
        }

        return order;
    }

    [Fact]
    public async Task A_chain_flow_runs_its_nodes_one_after_another()
    {
        var flow = new FlowBuilder()
            .AddJson("embed", "docs", "doc.embed", "{}", dependsOn: ["ocr"])
            .AddJson("extract", "docs", "doc.extract", "{}")
            .AddJson("ocr", "docs", "doc.ocr", "{}", dependsOn: ["extract"]);

        var ids = await Client.EnqueueFlowAsync(flow);

        Assert.Equal(JobState.Ready, (await GetAsync(ids["extract"])).State);
        Assert.Equal(JobState.Pending, (await GetAsync(ids["ocr"])).State);
        Assert.Equal([ids["ocr"]], (await GetAsync(ids["embed"])).DependsOn);
        Assert.Equal(["extract", "ocr", "embed"], await RunToEndAsync(ids));
        foreach (var id in ids.Values)
        {
            Assert.Equal(JobState.Completed, (await GetAsync(id)).State);
        }
    }

    [Fact]
    public async Task A_diamond_flow_joins_only_after_both_branches_complete()
    {
        var flow = new FlowBuilder()
            .AddJson("split", "docs", "doc.split", "{}")
            .AddJson("left", "docs", "doc.ocr", """{"half":1}""", dependsOn: ["split"])
            .AddJson("right", "docs", "doc.ocr", """{"half":2}""", dependsOn: ["split"])
            .AddJson("join", "docs", "doc.merge", "{}", dependsOn: ["left", "right"]);
        var ids = await Client.EnqueueFlowAsync(flow);

        await FinishAsync(JobOutcome.Complete((await LeaseOneAsync(queue: "docs")).Token));
        var branches = await LeaseAsync(10, "w1", null, "docs");
        Assert.Equal(new[] { ids["left"], ids["right"] }.Order(), branches.Select(b => b.Token.JobId).Order());
        await FinishAsync(JobOutcome.Complete(branches[0].Token));
        Assert.Equal(JobState.Pending, (await GetAsync(ids["join"])).State);
        await FinishAsync(JobOutcome.Complete(branches[1].Token));

        Assert.Equal(JobState.Ready, (await GetAsync(ids["join"])).State);
        Assert.Equal(["join"], await RunToEndAsync(ids));
    }

    [Fact]
    public async Task A_flow_with_a_cycle_is_refused_with_the_cycle_spelled_out_and_nothing_is_stored()
    {
        var flow = new FlowBuilder()
            .AddJson("a", "docs", "t", "{}", dependsOn: ["b"])
            .AddJson("b", "docs", "t", "{}", dependsOn: ["a"])
            .AddJson("c", "docs", "t", "{}");

        var error = await Assert.ThrowsAsync<JobValidationException>(() => Client.EnqueueFlowAsync(flow));

        Assert.Equal("depends_on", error.Field);
        Assert.Contains("a → b → a", error.Reason, StringComparison.Ordinal);
        Assert.Empty((await Query.ListJobsAsync(new JobListQuery())).Items);
    }

    [Fact]
    public async Task A_parent_that_fails_sends_its_dependents_down_the_graph_to_dead_letter_with_the_reason()
    {
        var flow = new FlowBuilder()
            .AddJson("extract", "docs", "doc.extract", "{}")
            .AddJson("ocr", "docs", "doc.ocr", "{}", dependsOn: ["extract"])
            .AddJson("embed", "docs", "doc.embed", "{}", dependsOn: ["ocr"]);
        var ids = await Client.EnqueueFlowAsync(flow);

        var root = await LeaseOneAsync(queue: "docs");
        await FinishAsync(JobOutcome.Fail(root.Token, ErrorOf(root, FailureCategory.Permanent, "unreadable file")));

        var ocr = await GetAsync(ids["ocr"]);
        var embed = await GetAsync(ids["embed"]);
        Assert.Equal((JobState.DeadLetter, JobState.DeadLetter), (ocr.State, embed.State));
        Assert.Contains(ids["extract"].ToString(System.Globalization.CultureInfo.InvariantCulture), ocr.Reason, StringComparison.Ordinal);
        Assert.Contains("failed", ocr.Reason, StringComparison.Ordinal);
        Assert.Contains(ids["ocr"].ToString(System.Globalization.CultureInfo.InvariantCulture), embed.Reason, StringComparison.Ordinal);
        Assert.Empty(await LeaseAsync(10, "w1", null, "docs"));
    }

    [Fact]
    public async Task A_flow_past_its_lifetime_ends_in_dead_letter_and_nothing_stays_pending()
    {
        var flow = new FlowBuilder()
            .AddJson("extract", "docs", "doc.extract", "{}", configure: o => o.Lifetime(TimeSpan.FromMinutes(10)))
            .AddJson("ocr", "docs", "doc.ocr", "{}", dependsOn: ["extract"]);
        var ids = await Client.EnqueueFlowAsync(flow);
        await Store.SetQueuePausedAsync("docs", true);

        Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(1, await Store.ExpireAsync());

        Assert.Equal(JobState.DeadLetter, (await GetAsync(ids["extract"])).State);
        Assert.Equal(JobState.DeadLetter, (await GetAsync(ids["ocr"])).State);
        Assert.Equal(0, (await Query.GetQueuesAsync()).Single(q => q.Queue == "docs")[JobState.Pending]);
    }
}
