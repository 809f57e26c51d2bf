using System.Diagnostics;
using System.Globalization;

namespace Bulwark.Cli.Bench;

/// <summary>
/// A real <c>bulwark worker</c> process (this CLI, started as <c>dotnet Bulwark.Cli.dll worker …</c>) on a bench run's store:
/// the SQLite file, or with PostgreSQL the run's own schema. Its output is drained and discarded.
/// </summary>
internal static class BenchWorkerProcess
{
    /// <summary>Starts a worker serving <see cref="BenchHost.Queue"/> on the run's store (<paramref name="path"/>: file or schema).</summary>
    public static Process Start(BenchSettings settings, string path, string name, int concurrency, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // With PostgreSQL the worker must serve the run's schema, named in the connection string (StoreSelection.SplitSchema).
        var store = settings.Postgres is { } connection ? $"{connection.TrimEnd(';')};Schema={path}" : path;
        foreach (var arg in (string[])[settings.CliDll, "worker", "--store", store, "--queues", BenchHost.Queue, "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture), "--name", name, .. LeaseAheadArgs(settings), .. extra])
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

    /// <summary>Kills (if still running) and disposes each process.</summary>
    public static async Task KillAllAsync(IEnumerable<Process?> processes)
    {
        foreach (var process in processes)
        {
            if (process is null)
            {
                continue;
            }

            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }

            process.Dispose();
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails when a watched worker exits or after the limit (default 60 s).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, IReadOnlyList<Process> watched, CancellationToken cancellationToken, TimeSpan? limit = null)
    {
        var within = limit ?? TimeSpan.FromSeconds(60);
        var deadline = Stopwatch.GetTimestamp() + (long)(within.TotalSeconds * Stopwatch.Frequency);
        while (!await condition())
        {
            if (watched.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"A bulwark worker exited (code {exited.ExitCode}) while waiting for {what}.");
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Gave up after {within.TotalSeconds:N0} s waiting for {what}.");
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    private static string[] LeaseAheadArgs(BenchSettings settings) =>
        settings.LeaseAhead is { } ahead ? ["--lease-ahead", ahead.ToString(CultureInfo.InvariantCulture)] : [];
}
