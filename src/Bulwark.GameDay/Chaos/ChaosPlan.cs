namespace Bulwark.GameDay.Chaos;

/// <summary>
/// Everything random in one round, drawn up front from its seed: when each job is enqueued and what it does, which
/// are cancelled and when, and each fault. The tasks of the round only read it, so one seed gives one plan.
/// </summary>
internal sealed record ChaosPlan(int Seed, IReadOnlyList<PlannedJob> Jobs, IReadOnlyList<PlannedFault> Faults, TimeSpan LoadFor)
{
    public static ChaosPlan Draw(int seed, bool quick, int workers)
    {
        var random = new Random(seed);
        var loadFor = TimeSpan.FromSeconds(quick ? 5 : 10);
        var jobs = Enumerable.Range(0, quick ? 60 : 150).Select(i => new PlannedJob(
            i,
            TimeSpan.FromMilliseconds(random.Next((int)loadFor.TotalMilliseconds)),
            random.Next(50, 1500),
            random.Next(100) < 20 ? 1 : 0,
            random.Next(3),
            random.Next(100) < 12 ? TimeSpan.FromMilliseconds(random.Next(800)) : null)).OrderBy(j => j.At).ToArray();
        var faults = Enumerable.Range(0, quick ? 3 : 6).Select(_ =>
        {
            var roll = random.Next(100);
            var kind = roll < 40 ? FaultKind.KillWorker : roll < 75 ? FaultKind.StopWorker : FaultKind.KillServer;
            return new PlannedFault(
                TimeSpan.FromMilliseconds(random.Next(300, (int)loadFor.TotalMilliseconds + 1500)),
                kind,
                random.Next(workers),

                // A stop longer than the 3 s lease lets the store reclaim the stopped worker's jobs, so it wakes up stale.
                TimeSpan.FromMilliseconds(kind == FaultKind.StopWorker ? random.Next(1000, 5500) : random.Next(200, 1500)));
        }).OrderBy(f => f.At).ToArray();
        return new ChaosPlan(seed, jobs, faults, loadFor);
    }
}

/// <summary>One job of the plan: when it is enqueued, how long it runs, how many first attempts fail, its priority, and when it is cancelled after its acknowledgement (null: never).</summary>
internal sealed record PlannedJob(int Index, TimeSpan At, int Ms, int Fail, int Priority, TimeSpan? CancelAfter);

/// <summary>One fault: when, what, on which worker (an index; ignored for the server), and how long the process stays down or stopped.</summary>
internal sealed record PlannedFault(TimeSpan At, FaultKind Kind, int Target, TimeSpan Pause);

/// <summary>What a fault does to a process.</summary>
internal enum FaultKind
{
    /// <summary><c>kill -9</c> of a worker, restarted under the same name after the pause.</summary>
    KillWorker,

    /// <summary>SIGSTOP of a worker, SIGCONT after the pause.</summary>
    StopWorker,

    /// <summary><c>kill -9</c> of the server, restarted after the pause.</summary>
    KillServer,
}
