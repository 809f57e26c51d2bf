using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>One page of jobs.</summary>
/// <param name="Items">The jobs, newest first.</param>
/// <param name="NextCursor">Pass as <c>BeforeId</c> for the next page; null on the last page.</param>
public sealed record JobPage(IReadOnlyList<JobSnapshot> Items, long? NextCursor);
