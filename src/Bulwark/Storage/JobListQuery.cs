using Bulwark.Jobs;

namespace Bulwark.Storage;

/// <summary>A page request for <see cref="IJobQuery.ListJobsAsync"/>.</summary>
/// <param name="Queue">Only this queue, or all.</param>
/// <param name="State">Only this state, or all.</param>
/// <param name="BeforeId">Keyset cursor: only jobs with a smaller id (the previous page's <see cref="JobPage.NextCursor"/>).</param>
/// <param name="Limit">Page size, 1–1000.</param>
public sealed record JobListQuery(string? Queue = null, JobState? State = null, long? BeforeId = null, int Limit = 50)
{
    /// <summary>Largest page.</summary>
    public const int MaxLimit = 1000;
}
