using System.Diagnostics;
using System.Globalization;
using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>
/// 3 storage-failure: a real full disk. The store lives on a small tmpfs; the harness fills it with a file, so SQLite's
/// writes fail with SQLITE_FULL, then deletes the file. Needs root on Linux to mount the tmpfs.
/// </summary>
internal sealed class StorageFailureScenario : IScenario
{
    public string Name => "storage-failure";

    public string Injected => "the store's disk (a 16 MiB tmpfs) filled to the last byte under load, for a few seconds, then freed";

    public string? WhyCannotRun() =>
        OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess
            ? null
            : "it fills a real disk: it needs Linux and root to mount a small tmpfs for the store (run the game day as root, or in a container).";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var disk = Path.Combine(d.Directory, "disk");
        Directory.CreateDirectory(disk);
        await ShellAsync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", disk], cancellationToken);
        try
        {
            return await RunOnDiskAsync(d, disk, cancellationToken);
        }
        finally
        {
            // Lazy: the server and worker still hold the store open until the deployment is disposed.
            await ShellAsync("umount", ["-l", disk], CancellationToken.None);
        }
    }

    private static async Task<ScenarioResult> RunOnDiskAsync(Deployment d, string disk, CancellationToken cancellationToken)
    {
        d.RelocateStore(disk);
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 4);
        await d.WaitForWorkerAsync(w1, cancellationToken);
        var load = d.NewLoad();
        var jobs = d.Quick ? 600 : 3000;
        d.Mark("steady load", $"{jobs} demo.append jobs at 30/s; store on a 16 MiB tmpfs");
        var loading = load.RunAsync(jobs, 30, cancellationToken);
        await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Count > 100), TimeSpan.FromSeconds(30), cancellationToken);
        var errorsBefore = await PersistenceErrorsAsync(d.Api, cancellationToken);

        var filler = Path.Combine(disk, "filler");
        var filled = Fill(filler);
        d.Inject($"disk full: wrote {filled / 1024} KiB of filler until ENOSPC");
        var injected = d.Time.GetTimestamp();

        var refused = false;
        await d.WaitUntilAsync(_ => Task.FromResult(refused = load.Refusals.ContainsKey(503)), TimeSpan.FromSeconds(20), cancellationToken);
        var detected = d.Time.GetElapsedTime(injected);
        d.Mark("first detection", refused ? $"enqueue answered 503 (refusals so far: {Refusals(load)})" : "enqueue never answered 503");
        var readyBody = "";
        var unready = await d.WaitUntilAsync(async ct =>
        {
            var answer = await d.Api.GetAsync("health/ready", ct);
            readyBody = answer.Body;
            return answer.Status == 503;
        }, TimeSpan.FromSeconds(10), cancellationToken);
        var errorsDuring = await PersistenceErrorsAsync(d.Api, cancellationToken);
        d.Mark("automatic response", $"storage circuit open: /health/ready {(unready ? "503" : "still 200")}; bulwark_persistence_errors_total {errorsBefore} → {errorsDuring}");

        // The outage lasts a few seconds more, as a real one would, before the operator frees space.
        await Task.Delay(TimeSpan.FromSeconds(3), d.Time, cancellationToken);
        File.Delete(filler);
        var cleared = d.Time.GetUtcNow();
        d.Mark("fault cleared", "filler deleted; the disk has room again");
        var ready = await d.WaitUntilAsync(async ct => (await d.Api.GetAsync("health/ready", ct)).Status == 200, TimeSpan.FromSeconds(30), cancellationToken);
        var resumed = await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Any(a => a.At > cleared)), TimeSpan.FromSeconds(30), cancellationToken);
        if (ready && resumed)
        {
            d.Restored("circuit closed", "/health/ready 200 and enqueue acknowledged again, without any operator action on Bulwark");
        }

        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every acknowledged job reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken);
        var completedAfter = m.Jobs.Count(j => j.State == "completed" && j.FinishedAt > cleared);
        return new ScenarioResult(m.Impact,
        [
            Check.That("after N consecutive errors enqueue answers 503", refused,
                $"503 after {Promises.Seconds(detected)}; refusals by status: {Refusals(load)}"),
            Check.That("/health/ready fails", unready, $"/health/ready: {Shorten(readyBody)}"),
            Check.That("persistence_errors_total rises", errorsDuring > errorsBefore, $"bulwark_persistence_errors_total summed over operations: {errorsBefore} before, {errorsDuring} during"),
            Check.That("when the fault clears the circuit closes by itself and work resumes", ready && resumed && completedAfter > 0,
                $"/health/ready back to 200: {ready}; enqueues acknowledged after the fault cleared: {load.Acks.Count(a => a.At > cleared)}; jobs completed after: {completedAfter}"),
            Promises.NoneLost(m),
            Promises.AllExecuted(m),
        ], ["Executions counted twice here come from leases that expired while heartbeats could not be written (at-least-once), not from lost acknowledgements."]);
    }

    private static long Fill(string path)
    {
        long written = 0;
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        foreach (var size in new[] { 1 << 20, 1 << 16, 1 << 12, 1 << 9 })
        {
            var block = new byte[size];
            try
            {
                while (true)
                {
                    file.Write(block);
                    file.Flush(flushToDisk: true);
                    written += size;
                }
            }
            catch (IOException)
            {
                // ENOSPC at this block size: go on with smaller blocks until not even 512 bytes fit.
            }
        }

        return written;
    }

    private static async Task<double> PersistenceErrorsAsync(BulwarkApi api, CancellationToken cancellationToken)
    {
        var metrics = await api.GetAsync("metrics", cancellationToken);
        return metrics.Body.Split('\n')
            .Where(l => l.StartsWith("bulwark_persistence_errors_total{", StringComparison.Ordinal))
            .Sum(l => double.TryParse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture, out var v) ? v : 0);
    }

    private static string Refusals(Load.LoadGenerator load) =>
        load.Refusals.Count == 0 ? "none" : string.Join(", ", load.Refusals.OrderBy(r => r.Key).Select(r => $"{r.Value}× {(r.Key == 0 ? "no answer" : r.Key.ToString(CultureInfo.InvariantCulture))}"));

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static async Task ShellAsync(string command, string[] arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()}");
        }
    }
}
