using Bulwark.Client;
using Bulwark.Jobs;

namespace Bulwark.Flows;

/// <summary>Enqueues a <see cref="FlowBuilder"/> through a <see cref="JobClient"/>.</summary>
public static class JobClientFlowExtensions
{
    /// <summary>
    /// Validates the flow (names, edges, cycles, every job's fields) and enqueues it as one atomic batch: all nodes or none.
    /// Returns each node's job id by name. A node with an idempotency key that is live already maps to the existing job.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> EnqueueFlowAsync(this JobClient client, FlowBuilder flow, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(flow);
        var (names, jobs) = client.BuildFlow(flow);
        var results = await client.EnqueueManyAsync(jobs, cancellationToken);
        var ids = new Dictionary<string, long>(names.Count, StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            ids[names[i]] = results[i].Id;
        }

        return ids;
    }

    /// <summary>
    /// The flow validated and built as one batch in dependency order, edges as <see cref="NewJob.DependsOnBatchIndexes"/>,
    /// for a caller that enqueues it itself (the server's API puts it through its queue limits first).
    /// </summary>
    public static FlowBatch BuildFlow(this JobClient client, FlowBuilder flow)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(flow);
        var nodes = flow.SortedNodes();
        var index = new Dictionary<string, int>(nodes.Count, StringComparer.Ordinal);
        var jobs = new NewJob[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var payload = node.PayloadJson ?? client.Serialize(node.Payload);
            NewJob job;
            try
            {
                job = client.Build(node.Queue, node.Type, payload, node.Configure);
            }
            catch (JobValidationException ex)
            {
                throw new JobValidationException(ex.Field, $"Flow node '{node.Name}': {ex.Reason}", ex.Kind);
            }

            jobs[i] = job with { DependsOnBatchIndexes = node.DependsOn.Distinct(StringComparer.Ordinal).Select(p => index[p]).Order().ToArray() };
            index[node.Name] = i;
        }

        return new FlowBatch(nodes.Select(n => n.Name).ToArray(), jobs);
    }
}
