using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Sqlite;
using Microsoft.Data.Sqlite;

namespace Bulwark.Benchmarks;

/// <summary>
/// Enqueue throughput of the SQLite store (WAL, synchronous=FULL, group commit): single jobs from 1, 8 and 64
/// concurrent producers, and batches of 1,000. Each scenario runs several times on a fresh file; the table shows the
/// median with min and max, and the same figures go to artifacts/bench/enqueue.json.
/// </summary>
internal static class EnqueueBenchmark
{
    private sealed record Scenario(string Name, int Producers, int BatchSize);

    private sealed record Outcome(string Scenario, int Producers, int BatchSize, double MedianJobsPerSecond, double MinJobsPerSecond, double MaxJobsPerSecond, long[] Jobs, double[] Seconds);

    public static async Task<int> RunAsync(bool quick)
    {
        var runs = quick ? 3 : 5;
        var duration = quick ? TimeSpan.FromSeconds(1.5) : TimeSpan.FromSeconds(5);
        var root = FindRepositoryRoot();
        var workDirectory = Path.Combine(root, "artifacts", "bench", "tmp");
        Directory.CreateDirectory(workDirectory);
        Scenario[] scenarios =
        [
            new("single, 1 producer", 1, 1),
            new("single, 8 producers", 8, 1),
            new("single, 64 producers", 64, 1),
            new("batch of 1,000, 1 producer", 1, 1000),
            new("batch of 1,000, 4 producers", 4, 1000),
        ];

        var options = new SqliteStoreOptions();
        var header = new Dictionary<string, object>
        {
            ["benchmark"] = "enqueue",
            ["date"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["machine"] = new Dictionary<string, object>
            {
                ["cores"] = Environment.ProcessorCount,
                ["os"] = RuntimeInformation.OSDescription,
                ["architecture"] = RuntimeInformation.OSArchitecture.ToString(),
                ["runtime"] = RuntimeInformation.FrameworkDescription,
            },
            ["store"] = new Dictionary<string, object>
            {
                ["kind"] = "sqlite",
                ["sqlite_version"] = SqliteVersion(),
                ["journal_mode"] = "wal",
                ["synchronous"] = "full",
                ["max_batch_size"] = options.MaxBatchSize,
                ["directory"] = workDirectory,
            },
            ["runs_per_scenario"] = runs,
            ["seconds_per_run"] = duration.TotalSeconds,
            ["payload"] = "{\"to\":\"user@example.com\",\"n\":<i>}",
        };

        Console.WriteLine($"Bulwark enqueue benchmark — {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        Console.WriteLine($"SQLite {SqliteVersion()}, WAL, synchronous=FULL, group commit (max batch {options.MaxBatchSize}); {runs} runs × {duration.TotalSeconds} s per scenario, fresh file each run in {workDirectory}");
        Console.WriteLine();

        var outcomes = new List<Outcome>();
        foreach (var scenario in scenarios)
        {
            var jobs = new long[runs];
            var seconds = new double[runs];
            for (var run = 0; run < runs; run++)
            {
                (jobs[run], seconds[run]) = await RunOnceAsync(scenario, duration, workDirectory);
            }

            var rates = jobs.Zip(seconds, (j, s) => j / s).Order().ToArray();
            outcomes.Add(new Outcome(scenario.Name, scenario.Producers, scenario.BatchSize, rates[rates.Length / 2], rates[0], rates[^1], jobs, seconds));
            Console.WriteLine($"  {scenario.Name,-30} {rates[rates.Length / 2],12:N0} jobs/s   (min {rates[0]:N0}, max {rates[^1]:N0})");
        }

        Console.WriteLine();
        Console.WriteLine($"| scenario | producers | batch | median jobs/s | min | max |");
        Console.WriteLine($"|---|---:|---:|---:|---:|---:|");
        foreach (var o in outcomes)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {o.Scenario} | {o.Producers} | {o.BatchSize} | {o.MedianJobsPerSecond:N0} | {o.MinJobsPerSecond:N0} | {o.MaxJobsPerSecond:N0} |"));
        }

        var output = Path.Combine(root, "artifacts", "bench", "enqueue.json");
        header["results"] = outcomes;
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(header, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        Console.WriteLine();
        Console.WriteLine($"Wrote {output}");
        try
        {
            Directory.Delete(workDirectory, recursive: true);
        }
        catch (IOException)
        {
        }

        return 0;
    }

    private static async Task<(long Jobs, double Seconds)> RunOnceAsync(Scenario scenario, TimeSpan duration, string directory)
    {
        var path = Path.Combine(directory, $"enqueue-{Guid.NewGuid():N}.db");
        try
        {
            await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path });
            // Prebuilt, validated jobs: the benchmark measures the store, not payload serialisation.
            var batches = Enumerable.Range(0, 16).Select(b => Enumerable.Range(0, scenario.BatchSize)
                .Select(i => JobValidator.Validate(new NewJob { Queue = "bench", Type = "demo.noop", Payload = $$"""{"to":"user@example.com","n":{{(b * scenario.BatchSize) + i}}}""" }))
                .ToArray()).ToArray();
            await store.EnqueueAsync(batches[0]); // warm-up: file created, statements prepared

            using var stop = new CancellationTokenSource();
            var counts = new long[scenario.Producers];
            var started = Stopwatch.GetTimestamp();
            var producers = Enumerable.Range(0, scenario.Producers).Select(p => Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    var batch = batches[(p + n++) % batches.Length];
                    await store.EnqueueAsync(batch);
                    counts[p] += batch.Length;
                }
            })).ToArray();
            stop.CancelAfter(duration);
            await Task.WhenAll(producers);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return (counts.Sum(), elapsed);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    private static string SqliteVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return (string)command.ExecuteScalar()!;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bulwark.slnx")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
