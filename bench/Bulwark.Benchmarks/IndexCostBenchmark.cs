using System.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Sqlite;
using Microsoft.Data.Sqlite;

namespace Bulwark.Benchmarks;

/// <summary>
/// What each secondary index of <c>jobs</c> costs an enqueue: batches of 1,000 through the store, first with the full
/// schema, then with one index dropped at a time. Prints microseconds per job (median of 5 batches of 20,000 jobs).
/// </summary>
internal static class IndexCostBenchmark
{
    public static async Task<int> RunAsync()
    {
        // The live table's indexes (schema 6); job_history's are written at finish, not at enqueue.
        string[] indexes = ["none", "jobs_ready", "jobs_scheduled", "jobs_running", "jobs_live_key", "jobs_queue_state", "jobs_expires", "ALL"];
        var directory = Directory.CreateTempSubdirectory("bulwark-index-cost-").FullName;
        var batch = Enumerable.Range(0, 1000).Select(i => JobValidator.Validate(new NewJob { Queue = "bench", Type = "demo.noop", Payload = $$"""{"n":{{i}}}""" })).ToArray();
        foreach (var dropped in indexes)
        {
            var path = Path.Combine(directory, $"{dropped}.db");
            await using (var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = path }))
            {
                using (var connection = new SqliteConnection($"Data Source={path}"))
                {
                    connection.Open();
                    using var command = connection.CreateCommand();
                    var names = dropped == "ALL" ? indexes[1..^1] : dropped == "none" ? [] : [dropped];
                    foreach (var name in names)
                    {
                        command.CommandText = $"DROP INDEX {name}";
                        command.ExecuteNonQuery();
                    }
                }

                await store.EnqueueAsync(batch);
                var samples = new List<double>();
                for (var round = 0; round < 5; round++)
                {
                    var started = Stopwatch.GetTimestamp();
                    for (var i = 0; i < 20; i++)
                    {
                        await store.EnqueueAsync(batch);
                    }

                    samples.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds / 20_000);
                }

                samples.Sort();
                Console.WriteLine($"{dropped,-18} {samples[2],7:N2} µs/job  ({1e6 / samples[2],9:N0} jobs/s)  min {samples[0]:N2} max {samples[^1]:N2}  load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            }

            SqliteConnection.ClearAllPools();
        }

        Directory.Delete(directory, recursive: true);
        return 0;
    }
}
