using Bulwark.Jobs;

namespace Bulwark.Scheduling;

/// <summary>
/// A scheduler's claim on one tick of a recurring job: move the definition's next tick from <paramref name="ExpectedNextTick"/>
/// to <paramref name="NextTick"/> and, when <paramref name="Job"/> is given, enqueue it — both in one transaction, and only
/// if the next tick still is <paramref name="ExpectedNextTick"/>. Of several schedulers claiming the same tick exactly one wins.
/// </summary>
/// <param name="Name">The recurring job.</param>
/// <param name="ExpectedNextTick">The next tick the scheduler read (the guard).</param>
/// <param name="Tick">The tick being claimed (recorded as the last tick).</param>
/// <param name="NextTick">The tick after it; null when the expression never fires again.</param>
/// <param name="Job">The job to enqueue for the tick, or null to skip it (misfire).</param>
public sealed record RecurringTick(string Name, DateTimeOffset ExpectedNextTick, DateTimeOffset Tick, DateTimeOffset? NextTick, NewJob? Job);
