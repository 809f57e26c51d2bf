namespace Bulwark.GameDay.Api;

/// <summary>A job with its error records, its lease epoch (the last lease granted), its result (JSON text) and whether a cancel was asked.</summary>
internal sealed record JobDetail(JobRow Job, IReadOnlyList<JobErrorRow> Errors, long LeaseEpoch = 0, string? Result = null, bool CancelRequested = false);
