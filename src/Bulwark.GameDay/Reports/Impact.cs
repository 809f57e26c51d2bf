namespace Bulwark.GameDay.Reports;

/// <summary>What the failure cost, counted from outside the system.</summary>
internal sealed record Impact
{
    public long Enqueued { get; init; }
    public long Acknowledged { get; init; }
    public long Completed { get; init; }
    public long Lost { get; init; }
    public long ExecutedTwice { get; init; }
    public long Failed { get; init; }
    public long DeadLettered { get; init; }
    public double PeakLatencySeconds { get; init; }
    public double P95LatencySeconds { get; init; }
    public double ThroughputBefore { get; init; }
    public double ThroughputDuring { get; init; }
    public double ThroughputAfter { get; init; }
}
