using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Bulwark.Jobs;
using Bulwark.Storage;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// Durable acknowledgement under <c>kill -9</c>: a child process enqueues as fast as it can and prints each id after
/// its enqueue returned; the test kills it mid-stream at a random moment, reopens the file, and finds every printed id.
/// </summary>
public sealed class SqliteCrashTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Every_id_acknowledged_before_a_kill_is_in_the_store_after_reopening(int run)
    {
        var killAfter = Random.Shared.Next(20, 3000);
        var printed = await RunChildAndKillAsync(killAfter, run);

        Assert.True(printed.Count >= killAfter, $"run {run}: the child printed {printed.Count} ids before the kill, expected at least {killAfter}");
        await using var store = SqliteJobStore.Open(new SqliteStoreOptions { Path = _database.Path });
        var missing = new List<long>();
        foreach (var id in printed)
        {
            var job = await store.GetJobAsync(id);
            if (job is null || job.Queue != "crash" || job.State != JobState.Ready)
            {
                missing.Add(id);
            }
        }

        Assert.True(missing.Count == 0, $"run {run}, killed after {printed.Count} acknowledgements: {missing.Count} acknowledged jobs are missing, first {string.Join(",", missing.Take(10))}");
        Assert.Equal("ok", QuickCheck(_database.Path));
        // The reopened store keeps working: new ids continue above every acknowledged one.
        Assert.True((await store.EnqueueAsync([JobValidator.Validate(new NewJob { Queue = "crash", Type = "demo.noop", Payload = "{}" })]))[0].Id > printed.Max());
    }

    private async Task<List<long>> RunChildAndKillAsync(int killAfter, int run)
    {
        var start = ListeningChild.StartInfo(_database.Path, (4 + (run % 3 * 6)).ToString(CultureInfo.InvariantCulture));

        var lines = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<string>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var child = new Process { StartInfo = start };
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lines.Enqueue(line);
                if (lines.Count >= killAfter)
                {
                    enough.TrySetResult();
                }
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
            }
        };
        child.Start();
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            var exited = child.WaitForExitAsync();
            var first = await Task.WhenAny(enough.Task, exited, Task.Delay(TimeSpan.FromSeconds(120)));
            Assert.True(first == enough.Task, $"The child did not print {killAfter} ids (printed {lines.Count}; exited: {child.HasExited}; stderr: {string.Join(" / ", errors)})");
        }
        finally
        {
            // Process.Kill sends SIGKILL on Unix: no finalizers, no flush, no dispose.
            child.Kill();
            await child.WaitForExitAsync();
        }

        return lines.Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToList();
    }

    private static string QuickCheck(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA quick_check";
        return (string)command.ExecuteScalar()!;
    }
}
