using System.Globalization;
using Bulwark.GameDay.Processes;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>15 rolling-restart: SIGTERM and restart every worker of a 3-worker fleet, one at a time, under steady load.</summary>
internal sealed class RollingRestartScenario : IScenario
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    // Exiting takes a moment past the drain itself (the host stops, the process ends): allowed on top of the timeout.
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(5);

    private static readonly string[] Names = ["w1", "w2", "w3"];

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    public string Name => "rolling-restart";

    public bool RunsOnPostgres => true;

    public string Injected => $"SIGTERM to each of 3 workers in turn (shutdown timeout {ShutdownTimeout.TotalSeconds:0} s), each started again under its name before the next, under steady load";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var jobs = d.Quick ? 1200 : 6000;
        await d.StartServerAsync(cancellationToken);
        var fleet = new Dictionary<string, BulwarkProcess>(StringComparer.Ordinal);
        foreach (var name in Names)
        {
            fleet[name] = d.StartWorker(name, 4, "--shutdown-timeout", $"{ShutdownTimeout.TotalSeconds:0}s");
        }

        foreach (var worker in fleet.Values)
        {
            await d.WaitForWorkerAsync(worker, cancellationToken);
        }

        var load = d.NewLoad();
        d.Mark("steady load", $"{jobs} demo.append jobs at 60/s over 3 workers × 4 slots, with 1 s demo.sleep jobs for the drains to finish");
        var loading = load.RunAsync(jobs, 60, cancellationToken);
        await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Count > 120), TimeSpan.FromSeconds(30), cancellationToken);

        var sleepers = new List<long>();
        var drains = new List<string>();
        var slowDrains = new List<string>();
        var registry = new List<string>();
        var registryWrong = new List<string>();
        var first = true;
        foreach (var name in Names)
        {
            // Work for the drain to finish: jobs shorter than the shutdown timeout, some of them on this worker.
            sleepers.AddRange(await FleetWatch.EnqueueSleepersAsync(d.Api, 4, 1000, cancellationToken));
            await d.WaitUntilAsync(async ct => (await FleetWatch.RunningUnderAsync(d.Api, name, ct)).Count > 0, TimeSpan.FromSeconds(10), cancellationToken);
            var old = fleet[name];
            var oldIds = (await d.Api.WorkersAsync(cancellationToken)).Where(w => w.Name == name && w.State == "active").Select(w => w.Id).ToArray();
            old.Signal(PosixSignals.SigTerm);
            if (first)
            {
                d.Inject($"SIGTERM to {name} (pid {old.ProcessId}), the first of {Names.Length}");
                first = false;
            }
            else
            {
                d.Mark("restart", $"SIGTERM to {name} (pid {old.ProcessId})");
            }

            var signalled = d.Time.GetTimestamp();
            var exited = await old.WaitForExitAsync(ShutdownTimeout + ExitMargin + TimeSpan.FromSeconds(20), cancellationToken);
            var took = d.Time.GetElapsedTime(signalled);
            drains.Add($"{name}: exit {(exited ? old.ExitCode.ToString(CultureInfo.InvariantCulture) : "none")} after {Promises.Seconds(took)}");
            if (!exited || old.ExitCode != 0 || took > ShutdownTimeout + ExitMargin)
            {
                slowDrains.Add(name);
            }

            var workers = await d.Api.WorkersAsync(cancellationToken);
            var oldStates = workers.Where(w => oldIds.Contains(w.Id)).Select(w => w.State).ToArray();
            var restarted = d.StartWorker(name, 4, "--shutdown-timeout", $"{ShutdownTimeout.TotalSeconds:0}s");
            await d.WaitForWorkerAsync(restarted, cancellationToken);
            fleet[name] = restarted;
            var newStates = (await d.Api.WorkersAsync(cancellationToken)).Where(w => w.Name == name && !oldIds.Contains(w.Id)).Select(w => w.State).ToArray();
            registry.Add($"{name}: old registration {string.Join('/', oldStates.DefaultIfEmpty("(missing)"))}, new {string.Join('/', newStates.DefaultIfEmpty("(missing)"))}");
            if (oldStates.Length == 0 || oldStates.Any(s => s != "stopped") || !newStates.Contains("active"))
            {
                registryWrong.Add(name);
            }
        }

        d.Restored("every worker restarted", $"{Names.Length} workers restarted one at a time");
        var restoredAt = d.RestoredAt!.Value;
        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken, sleepers);
        var charged = m.Jobs.Where(j => j.Attempt != 1).Select(j => j.Id).ToArray();
        var crashed = new List<long>();
        foreach (var id in charged.Take(20))
        {
            if ((await d.Api.GetJobAsync(id, cancellationToken)).Errors.Any(e => e.Category == "crash"))
            {
                crashed.Add(id);
            }
        }

        // Throughput never drops to zero: every window of 3 s from the first SIGTERM to the last restart saw a job complete.
        // (A window, not every second: on a 2-core machine a starting .NET process can hold both cores for a second.)
        var injectedAt = d.InjectedAt!.Value;
        var finishes = m.Jobs.Where(j => j.State == "completed" && j.FinishedAt is not null).Select(j => j.FinishedAt!.Value).ToArray();
        var silentSeconds = new List<string>();
        for (var from = injectedAt; from.Add(Window) <= restoredAt; from = from.AddSeconds(1))
        {
            var to = from.Add(Window);
            if (!finishes.Any(f => f >= from && f < to))
            {
                silentSeconds.Add($"+{(from - injectedAt).TotalSeconds:0} s");
            }
        }

        return new ScenarioResult(m.Impact,
        [
            Promises.NoneLost(m),
            Check.That("no job charged an attempt", charged.Length == 0 && crashed.Count == 0,
                charged.Length == 0 ? "every job completed on attempt 1 (drained jobs were finished, or released uncharged)" : $"jobs on attempt > 1: {Promises.Ids(charged)}; with a crash record: {Promises.Ids(crashed)}"),
            Check.That("throughput never drops to zero", silentSeconds.Count == 0 && finishes.Length > 0,
                silentSeconds.Count == 0 ? $"jobs completed in every 3 s window of the {Promises.Seconds(restoredAt - injectedAt)} rolling restart" : $"no job completed in the 3 s window(s) starting {string.Join(", ", silentSeconds)} after the first SIGTERM"),
            Check.That($"each worker drains within its shutdown timeout ({ShutdownTimeout.TotalSeconds:0} s) and exits 0", slowDrains.Count == 0, string.Join("; ", drains)),
            Check.That("the registry shows each as stopped, then active again", registryWrong.Count == 0, string.Join("; ", registry)),
            Promises.NoDuplicates(m),
        ]);
    }
}
