using System.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;

namespace Bulwark.Benchmarks;

/// <summary>
/// The store half of a drain without the worker runtime: lease 50, complete those 50, repeat, one call at a time (so
/// each call is its own commit). Prints microseconds per job for enqueue (batches of 1,000), lease, finish and single enqueues from 64 callers, and
/// the allocations per job of each, median of 5 rounds (BULWARK_BENCH_ROUNDS).
/// </summary>
internal static class StoreOpsBenchmark
{
    public static async Task<int> RunAsync()
    {
        var directory = Directory.CreateTempSubdirectory("bulwark-store-ops-").FullName;
        var path = Path.Combine(directory, "ops.db");
        var batch = Enumerable.Range(0, 1000).Select(i => JobValidator.Validate(new NewJob { Queue = "bench", Type = "demo.noop", Payload = $$"""{"n":{{i}}}""" })).ToArray();
        var enqueue = new List<(double Us, double Bytes, double SystemUs)>();
        var lease = new List<(double Us, double Bytes, double SystemUs)>();
        var finish = new List<(double Us, double Bytes, double SystemUs)>();
        var single = new List<(double Us, double Bytes, double SystemUs)>();
        await using (var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path }))
        {
            // Experiments only: BULWARK_BENCH_DROP_INDEXES=a,b drops those indexes first, to price each one.
            foreach (var index in (Environment.GetEnvironmentVariable("BULWARK_BENCH_DROP_INDEXES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                using var connection = new SqliteConnection($"Data Source={path}");
                connection.Open();
                using var drop = connection.CreateCommand();
                drop.CommandText = $"DROP INDEX {index}";
                drop.ExecuteNonQuery();
            }

            await store.RegisterWorkerAsync(new WorkerRegistration { Id = "w1", Name = "w1", Host = "h", ProcessId = 1, Queues = ["bench"], Concurrency = 50, StartedAt = DateTimeOffset.UtcNow, State = WorkerState.Active });
            await store.EnqueueAsync(batch);

            // BULWARK_BENCH_DEPTH=N: measure with N more jobs waiting behind the ones the rounds use (the backlog question).
            var depth = long.Parse(Environment.GetEnvironmentVariable("BULWARK_BENCH_DEPTH") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            for (long seeded = 0; seeded < depth; seeded += batch.Length)
            {
                await store.EnqueueAsync(batch);
            }

            // BULWARK_BENCH_ROUNDS=N: more rounds for a steadier median and min on a busy machine.
            var rounds = int.Parse(Environment.GetEnvironmentVariable("BULWARK_BENCH_ROUNDS") ?? "5", System.Globalization.CultureInfo.InvariantCulture);
            for (var round = 0; round < rounds; round++)
            {
                enqueue.Add(await MeasureAsync(20_000, async () =>
                {
                    for (var i = 0; i < 20; i++)
                    {
                        await store.EnqueueAsync(batch);
                    }
                }));

                var leased = new List<LeasedJob>();
                lease.Add(await MeasureAsync(20_000, async () =>
                {
                    for (var i = 0; i < 400; i++)
                    {
                        leased.AddRange(await store.LeaseAsync(new LeaseRequest("w1", ["bench"], 50, TimeSpan.FromMinutes(5))));
                    }
                }));

                finish.Add(await MeasureAsync(leased.Count, async () =>
                {
                    for (var i = 0; i < leased.Count; i += 50)
                    {
                        await store.FinishAsync([.. leased.Skip(i).Take(50).Select(j => JobOutcome.Complete(j.Token))]);
                    }
                }));

                // Single jobs from 64 concurrent producers: group commit shares each transaction, every job is its own operation.
                single.Add(await MeasureAsync(64 * 100, () => Task.WhenAll(Enumerable.Range(0, 64).Select(p => Task.Run(async () =>
                {
                    for (var i = 0; i < 100; i++)
                    {
                        await store.EnqueueAsync([batch[((p * 100) + i) % batch.Length]]);
                    }
                })))));
            }
        }

        Console.WriteLine($"enqueue (batches of 1,000) {Median(enqueue)}");
        Console.WriteLine($"lease (50 per call)        {Median(lease)}");
        Console.WriteLine($"finish (50 per call)       {Median(finish)}");
        Console.WriteLine($"enqueue single, 64 callers {Median(single)}");
        Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
        return 0;
    }

    /// <summary>CPU time (user + system) per job, which the machine's other load disturbs far less than wall time.</summary>
    private static async Task<(double Us, double Bytes, double SystemUs)> MeasureAsync(int jobs, Func<Task> work)
    {
        var bytes = GC.GetTotalAllocatedBytes(precise: true);
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var system = process.PrivilegedProcessorTime;
        await work();
        process.Refresh();
        var us = (process.TotalProcessorTime - cpu).TotalMicroseconds / jobs;
        var systemUs = (process.PrivilegedProcessorTime - system).TotalMicroseconds / jobs;
        return (us, (GC.GetTotalAllocatedBytes(precise: true) - bytes) / (double)jobs, systemUs);
    }

    /// <summary>Median, min and max of CPU (user + kernel) per job; the kernel's share (WAL writes, fsync) beside it.</summary>
    private static string Median(List<(double Us, double Bytes, double SystemUs)> samples)
    {
        var us = samples.Select(s => s.Us).Order().ToArray();
        var bytes = samples.Select(s => s.Bytes).Order().ToArray();
        var system = samples.Select(s => s.SystemUs).Order().ToArray();
        return $"{us[us.Length / 2],7:N2} CPU µs/job (min {us[0]:N2}, max {us[^1]:N2}; kernel {system[system.Length / 2]:N2}), {bytes[bytes.Length / 2],7:N0} B allocated/job";
    }
}
