using System.Globalization;
using Bulwark.GameDay.Processes;

namespace Bulwark.GameDay.Scenarios;

/// <summary>
/// Plays the orchestrator (systemd <c>Restart=always</c>, a Kubernetes pod): a worker process that dies is started again
/// with the same name. Every exit is counted, so a crash loop shows.
/// </summary>
internal sealed class Supervisor(Deployment deployment, int concurrency)
{
    private readonly Dictionary<string, BulwarkProcess> _workers = [];
    private readonly List<(string Name, int ExitCode, DateTimeOffset At)> _exits = [];

    public IReadOnlyList<(string Name, int ExitCode, DateTimeOffset At)> Exits => _exits;

    public IReadOnlyCollection<string> Names => _workers.Keys;

    public async Task StartAsync(IEnumerable<string> names, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            _workers[name] = deployment.StartWorker(name, concurrency);
        }

        foreach (var worker in _workers.Values)
        {
            await deployment.WaitForWorkerAsync(worker, cancellationToken);
        }
    }

    /// <summary>Restarts every worker that exited since the last look; returns how many did.</summary>
    public int RestartExited()
    {
        var restarted = 0;
        foreach (var (name, worker) in _workers.ToArray())
        {
            if (worker.HasExited)
            {
                _exits.Add((name, worker.ExitCode, deployment.Time.GetUtcNow()));
                deployment.Mark("worker crashed", string.Create(CultureInfo.InvariantCulture, $"{name} (pid {worker.ProcessId}) exited with code {worker.ExitCode}; the supervisor starts it again"));
                _workers[name] = deployment.StartWorker(name, concurrency);
                restarted++;
            }
        }

        return restarted;
    }

    public IEnumerable<BulwarkProcess> Current => _workers.Values;
}
