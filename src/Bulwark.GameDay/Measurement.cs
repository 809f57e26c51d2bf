using Bulwark.GameDay.Api;
using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay;

/// <summary>The outside count at the end of a scenario: the tally, every job row of the queue, and the impact.</summary>
internal sealed record Measurement(ExecutionTally Tally, IReadOnlyList<JobRow> Jobs, Impact Impact);
