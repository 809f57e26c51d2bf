namespace Bulwark.GameDay.Reports;

/// <summary>One "must hold" line of a scenario, whether it held, and the evidence either way.</summary>
internal sealed record Check(string Line, bool Passed, string Evidence)
{
    public static Check That(string line, bool passed, string evidence) => new(line, passed, evidence);
}
