using System.Text.RegularExpressions;
using Bulwark.Client;
using Bulwark.Jobs;

namespace Bulwark.Flows;

/// <summary>
/// A flow: named jobs and the edges between them, enqueued in one atomic batch by
/// <see cref="JobClientFlowExtensions.EnqueueFlowAsync"/>. A node waits <c>Pending</c> until every node it depends on
/// completed; when one of them ends otherwise, the node goes to dead letter with the reason.
/// <code>
/// var flow = new FlowBuilder()
///     .Add("extract", "docs", "doc.extract", new { file })
///     .Add("ocr", "docs", "doc.ocr", new { file }, dependsOn: ["extract"])
///     .Add("embed", "docs", "doc.embed", new { file }, dependsOn: ["ocr"]);
/// IReadOnlyDictionary&lt;string, long&gt; ids = await jobs.EnqueueFlowAsync(flow);
/// </code>
/// </summary>
public sealed partial class FlowBuilder
{
    /// <summary>Most nodes one flow may hold (one enqueue batch).</summary>
    public const int MaxNodes = 1000;

    /// <summary>Longest node name accepted.</summary>
    public const int MaxNameLength = 100;

    private readonly List<FlowNode> _nodes = [];
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    /// <summary>The node names in the order they were added.</summary>
    public IReadOnlyList<string> Names => _nodes.Select(n => n.Name).ToArray();

    /// <summary>Adds a node whose payload object is serialized with the client's serializer options.</summary>
    /// <param name="name">Unique within the flow: letters, digits and <c>. _ : -</c>.</param>
    /// <param name="queue">The queue the job waits in.</param>
    /// <param name="type">The handler name.</param>
    /// <param name="payload">The payload object (null is the JSON <c>null</c>).</param>
    /// <param name="dependsOn">Names of nodes (of this flow) that must complete first; they may be added later.</param>
    /// <param name="configure">Per-job options (priority, attempts, timeout, lifetime, ids of existing jobs to wait for, …).</param>
    public FlowBuilder Add(string name, string queue, string type, object? payload = null, IReadOnlyList<string>? dependsOn = null, Action<EnqueueOptions>? configure = null) =>
        AddNode(new FlowNode(ValidateName(name), queue, type, payload, null, dependsOn ?? [], configure));

    /// <summary>Adds a node whose payload is already JSON text.</summary>
    public FlowBuilder AddJson(string name, string queue, string type, string payloadJson, IReadOnlyList<string>? dependsOn = null, Action<EnqueueOptions>? configure = null) =>
        AddNode(new FlowNode(ValidateName(name), queue, type, null, payloadJson ?? "null", dependsOn ?? [], configure));

    /// <summary>
    /// The node names, every node after the nodes it depends on (ties keep the order of adding). Throws a
    /// <see cref="JobValidationException"/> (field <c>depends_on</c>) for an unknown name or a cycle, spelling the cycle out.
    /// </summary>
    public IReadOnlyList<string> TopologicalOrder() => Sort().Select(i => _nodes[i].Name).ToArray();

    /// <summary>The nodes in dependency order (validated), for <see cref="JobClientFlowExtensions"/>.</summary>
    internal IReadOnlyList<FlowNode> SortedNodes() => Sort().Select(i => _nodes[i]).ToArray();

    private FlowBuilder AddNode(FlowNode node)
    {
        if (_byName.ContainsKey(node.Name))
        {
            throw new JobValidationException("name", $"The flow already has a node named '{node.Name}'; give each node a unique name.");
        }

        if (_nodes.Count >= MaxNodes)
        {
            throw new JobValidationException("flow", $"A flow holds at most {MaxNodes} nodes; split the work into several flows.");
        }

        foreach (var parent in node.DependsOn)
        {
            if (parent == node.Name)
            {
                throw new JobValidationException("depends_on", $"Node '{node.Name}' depends on itself ({node.Name} → {node.Name}); remove that edge.");
            }
        }

        _byName.Add(node.Name, _nodes.Count);
        _nodes.Add(node);
        return this;
    }

    private static string ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new JobValidationException("name", "A flow node needs a name, such as 'extract'.");
        }

        if (name.Length > MaxNameLength || !NameRegex().IsMatch(name))
        {
            throw new JobValidationException("name", $"'{(name.Length > 40 ? name[..40] + "…" : name)}' is not a valid node name: use up to {MaxNameLength} letters, digits and . _ : -, starting with a letter or digit.");
        }

        return name;
    }

    /// <summary>Kahn's algorithm, always taking the earliest-added ready node, so the batch order is predictable.</summary>
    private List<int> Sort()
    {
        if (_nodes.Count == 0)
        {
            throw new JobValidationException("flow", "The flow has no nodes; add at least one with Add(name, queue, type, payload).");
        }

        var parents = new List<int>[_nodes.Count];
        var children = new List<int>[_nodes.Count];
        for (var i = 0; i < _nodes.Count; i++)
        {
            children[i] = [];
        }

        for (var i = 0; i < _nodes.Count; i++)
        {
            parents[i] = [];
            foreach (var parentName in _nodes[i].DependsOn.Distinct(StringComparer.Ordinal))
            {
                if (!_byName.TryGetValue(parentName, out var parent))
                {
                    throw new JobValidationException(
                        "depends_on",
                        $"Node '{_nodes[i].Name}' depends on '{parentName}', which is not a node of this flow (nodes: {string.Join(", ", _nodes.Select(n => n.Name))}); add that node or fix the name.");
                }

                parents[i].Add(parent);
                children[parent].Add(i);
            }
        }

        var waiting = parents.Select(p => p.Count).ToArray();
        var ready = new SortedSet<int>(Enumerable.Range(0, _nodes.Count).Where(i => waiting[i] == 0));
        var order = new List<int>(_nodes.Count);
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            order.Add(next);
            foreach (var child in children[next])
            {
                if (--waiting[child] == 0)
                {
                    ready.Add(child);
                }
            }
        }

        if (order.Count < _nodes.Count)
        {
            var cycle = FindCycle(parents, waiting);
            throw new JobValidationException(
                "depends_on",
                $"The flow has a dependency cycle: {string.Join(" → ", cycle.Select(i => _nodes[i].Name))}. Its nodes would wait for each other forever; remove one of these edges. Nothing was stored.");
        }

        return order;
    }

    /// <summary>
    /// Among nodes left unsorted (each has an unsorted parent), walks parent edges until a node repeats: that loop is a cycle,
    /// closed on its first node. "a → b" reads "a waits for b".
    /// </summary>
    private static List<int> FindCycle(List<int>[] parents, int[] waiting)
    {
        var start = Array.FindIndex(waiting, w => w > 0);
        var seenAt = new Dictionary<int, int>();
        var path = new List<int>();
        var node = start;
        while (!seenAt.ContainsKey(node))
        {
            seenAt[node] = path.Count;
            path.Add(node);
            node = parents[node].First(p => waiting[p] > 0);
        }

        var cycle = path.Skip(seenAt[node]).ToList();
        cycle.Add(node);
        return cycle;
    }
}
