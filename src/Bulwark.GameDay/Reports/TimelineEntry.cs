namespace Bulwark.GameDay.Reports;

/// <summary>A moment of the incident: what happened, seconds after the injection (negative: before it).</summary>
internal sealed record TimelineEntry(string Event, double Seconds, string Detail);
