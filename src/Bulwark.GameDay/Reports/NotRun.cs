namespace Bulwark.GameDay.Reports;

/// <summary>A scenario the game day does not run yet, and why.</summary>
internal sealed record NotRun(string Name, string Reason);
