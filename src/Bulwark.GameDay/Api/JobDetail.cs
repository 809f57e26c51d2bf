namespace Bulwark.GameDay.Api;

/// <summary>A job with its error records.</summary>
internal sealed record JobDetail(JobRow Job, IReadOnlyList<JobErrorRow> Errors);
