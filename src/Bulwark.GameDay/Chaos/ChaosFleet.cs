using Bulwark.GameDay.Processes;

namespace Bulwark.GameDay.Chaos;

/// <summary>
/// The processes of a chaos campaign (the server and a few workers on one store) and the faults done to them with
/// real signals. It knows which workers are stopped, so a fault never targets one and a round never ends with one.
/// </summary>
internal sealed class ChaosFleet(Deployment d, IReadOnlyList<string> names, int concurrency)
{
    private readonly Dictionary<string, BulwarkProcess> _workers = [];
    private readonly HashSet<string> _stopped = [];
    private readonly Lock _gate = new();
    private readonly List<Task> _continues = [];

    public IReadOnlyList<string> Names => names;

    /// <summary>Starts whatever is not running (the server first) and waits until each is ready.</summary>
    public async Task EnsureUpAsync(CancellationToken cancellationToken)
    {
        Task[] continues;
        lock (_gate)
        {
            continues = [.. _continues];
        }

        await Task.WhenAll(continues);
        if (d.Server is null || d.Server.HasExited)
        {
            await d.StartServerAsync(cancellationToken);
        }

        var started = new List<BulwarkProcess>();
        foreach (var name in names)
        {
            if (!_workers.TryGetValue(name, out var worker) || worker.HasExited)
            {
                started.Add(_workers[name] = d.StartWorker(name, concurrency));
            }
        }

        foreach (var worker in started)
        {
            await d.WaitForWorkerAsync(worker, cancellationToken);
        }
    }

    /// <summary>Does one fault; returns what it did, for the timeline (null when its target was not available).</summary>
    public async Task<string?> InjectAsync(PlannedFault fault, CancellationToken cancellationToken)
    {
        if (fault.Kind == FaultKind.KillServer)
        {
            var server = d.Server!;
            server.KillHard();
            await server.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            await Task.Delay(fault.Pause, d.Time, cancellationToken);
            await d.StartServerAsync(cancellationToken);
            return $"kill -9 server (pid {server.ProcessId}), restarted after {Ms(fault.Pause)}";
        }

        var name = Pick(fault.Target);
        if (name is null)
        {
            return null;
        }

        var worker = _workers[name];
        if (fault.Kind == FaultKind.StopWorker)
        {
            lock (_gate)
            {
                _stopped.Add(name);
                worker.Signal(PosixSignals.SigStop);
                _continues.Add(ContinueAsync(name, worker, fault.Pause));
            }

            return $"SIGSTOP {name} (pid {worker.ProcessId}) for {Ms(fault.Pause)}";
        }

        worker.KillHard();
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        await Task.Delay(fault.Pause, d.Time, cancellationToken);
        var restarted = _workers[name] = d.StartWorker(name, concurrency);
        await d.WaitForWorkerAsync(restarted, cancellationToken);
        return $"kill -9 {name} (pid {worker.ProcessId}), restarted under the same name after {Ms(fault.Pause)}";
    }

    /// <summary>The planned worker, or the next one that is not stopped; null when every worker is stopped.</summary>
    private string? Pick(int target)
    {
        lock (_gate)
        {
            return Enumerable.Range(0, names.Count).Select(i => names[(target + i) % names.Count]).FirstOrDefault(n => !_stopped.Contains(n));
        }
    }

    private async Task ContinueAsync(string name, BulwarkProcess worker, TimeSpan after)
    {
        // The stop lasts its planned time whatever the round is doing: SIGCONT is never cancelled, or a worker would stay frozen.
        await Task.Delay(after, d.Time, CancellationToken.None);
        lock (_gate)
        {
            if (!worker.HasExited)
            {
                worker.Signal(PosixSignals.SigCont);
            }

            _stopped.Remove(name);
        }

        d.Mark("fault", $"SIGCONT {name} (pid {worker.ProcessId})");
    }

    private static string Ms(TimeSpan span) => $"{span.TotalMilliseconds:0} ms";
}
