using System.Diagnostics;
using System.Globalization;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Cli.Bench;

/// <summary>
/// Two real <c>bulwark worker</c> processes: the victim holds the leases of long jobs, a second worker idles beside it.
/// After <c>kill -9</c> of the victim, the time until every one of its jobs runs on the other worker. The idle worker's
/// resident memory is read just before the kill.
/// </summary>
internal sealed class RecoveryScenario : IBenchScenario
{
    private const int Jobs = 10;

    public string Name => "recovery";

    public async Task<IReadOnlyList<BenchFigure>> RunAsync(BenchSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Postgres is not null)
        {
            // Each bench run has its own schema, and `bulwark worker` serves the default one: the two would not meet.
            settings.Progress.WriteLine("  recovery: not run on PostgreSQL (bulwark worker uses the default schema, the bench a fresh one per run); run it on SQLite.");
            return [];
        }

        // --quick shortens the lease so the suite's smoke test stays short; the full run uses the worker's defaults.
        string[] timing = settings.Quick ? ["--lease", "2s", "--heartbeat", "500ms"] : [];
        var recovery = new List<BenchRun>();
        var memory = new List<BenchRun>();
        for (var run = 0; run < settings.Runs; run++)
        {
            var (seconds, idleMb) = await RunOnceAsync(settings, timing, cancellationToken);
            recovery.Add(BenchRun.Of(seconds));
            memory.Add(BenchRun.Of(idleMb));
        }

        var label = settings.Quick ? "lease 2 s, heartbeat 0.5 s" : "default settings (lease 10 s, heartbeat 2 s)";
        var figures = new List<BenchFigure>
        {
            BenchFigure.From(Name, $"kill -9 → all {Jobs} jobs running elsewhere, {label}", "s", recovery),
            BenchFigure.From(Name, "idle worker process resident memory", "MB", memory),
        };
        settings.Progress.WriteLine($"  recovery: {figures[0].Median:N2} s; idle worker {figures[1].Median:N0} MB");
        return figures;
    }

    private static async Task<(double Seconds, double IdleMb)> RunOnceAsync(BenchSettings settings, string[] timing, CancellationToken cancellationToken)
    {
        var path = BenchHost.NewPath(settings, "recovery");
        var victimName = $"victim-{Guid.NewGuid():N}"[..20];
        var rescuerName = $"rescuer-{Guid.NewGuid():N}"[..20];
        Process? victim = null;
        Process? rescuer = null;
        try
        {
            await using var host = BenchHost.Create(settings, "recovery", existingPath: path);
            var jobs = Enumerable.Range(0, Jobs).Select(_ => host.Client.Build(BenchHost.Queue, "demo.sleep", """{"ms":600000}""")).ToArray();
            await host.Client.EnqueueManyAsync(jobs, cancellationToken);

            victim = StartWorker(settings, path, victimName, timing);
            await WaitUntilAsync(async () => (await Running(host)).Count == Jobs, "the victim to lease every job", victim, cancellationToken);
            var victimId = (await Running(host))[0].LeaseOwner;

            rescuer = StartWorker(settings, path, rescuerName, timing);
            await WaitUntilAsync(async () => (await host.Store.ListWorkersAsync(cancellationToken))
                .Any(w => w.Registration.Name == rescuerName && w.State == WorkerState.Active), "the second worker to register", rescuer, cancellationToken);
            var idleMb = ResidentMegabytes(rescuer.Id);

            var killed = Stopwatch.GetTimestamp();
            victim.Kill();
            await WaitUntilAsync(async () =>
            {
                var running = await Running(host);
                return running.Count == Jobs && running.All(j => j.LeaseOwner != victimId);
            }, "every job to run on the second worker", rescuer, cancellationToken);
            return (Stopwatch.GetElapsedTime(killed).TotalSeconds, idleMb);
        }
        finally
        {
            foreach (var process in new[] { victim, rescuer })
            {
                if (process is not null)
                {
                    if (!process.HasExited)
                    {
                        process.Kill();
                        await process.WaitForExitAsync(CancellationToken.None);
                    }

                    process.Dispose();
                }
            }

            BenchHost.DeleteFiles(settings, path);
        }

        async Task<List<JobSnapshot>> Running(BenchHost host) =>
            [.. (await host.Store.ListJobsAsync(new JobListQuery(BenchHost.Queue, JobState.Running, Limit: 100), cancellationToken)).Items];
    }

    private static Process StartWorker(BenchSettings settings, string path, string name, string[] timing)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[settings.CliDll, "worker", "--store", path, "--queues", BenchHost.Queue, "--concurrency", Jobs.ToString(CultureInfo.InvariantCulture), "--name", name, .. timing])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a bulwark worker process.");
        // Drained so that a chatty worker never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Process watched, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
        while (!await condition())
        {
            if (watched.HasExited)
            {
                throw new InvalidOperationException($"A bulwark worker exited (code {watched.ExitCode}) while waiting for {what}.");
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Gave up after 60 s waiting for {what}.");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static double ResidentMegabytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var kb = line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            return Math.Round(kb / 1024, 1);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
