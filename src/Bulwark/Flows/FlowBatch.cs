using Bulwark.Jobs;

namespace Bulwark.Flows;

/// <summary>A flow built by <see cref="JobClientFlowExtensions.BuildFlow"/>: node names and their jobs, position for position.</summary>
/// <param name="Names">Each node's name, in dependency order.</param>
/// <param name="Jobs">Each node's validated job, its edges as batch indexes.</param>
public sealed record FlowBatch(IReadOnlyList<string> Names, IReadOnlyList<NewJob> Jobs);
