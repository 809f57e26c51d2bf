using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>What a scenario found: the impact it measured and each "must hold" line.</summary>
internal sealed record ScenarioResult(Impact Impact, IReadOnlyList<Check> Checks, IReadOnlyList<string>? Notes = null);
