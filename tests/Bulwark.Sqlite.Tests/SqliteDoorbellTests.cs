using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Bulwark.Storage;
using Bulwark.StoreContract;
using Bulwark.TestProcesses;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// The embedded store's cross-process wake-up: a commit in one store instance (another process, in production) that
/// makes work available pulses the <see cref="JobSignal"/> of every other instance listening on the same file.
/// </summary>
public sealed class SqliteDoorbellTests : IDisposable
{
    // Far longer than any wake-up takes: a wait that ends before it was woken, not timed out.
    private static readonly TimeSpan Never = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task A_ready_job_committed_by_another_instance_wakes_the_listening_one()
    {
        var signal = new JobSignal();
        await using var worker = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = signal });
        await using var producer = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path });

        var woken = signal.WaitAsync(Never, TimeProvider.System, CancellationToken.None);
        Assert.False(woken.IsCompleted);
        await producer.EnqueueAsync([TestJobs.New()]);

        await woken.WaitAsync(Deadline);
        Assert.True(producer.Doorbell!.Rings >= 1);
        Assert.True(worker.Doorbell!.Wakes >= 1);
    }

    [Fact]
    public async Task Work_that_no_worker_can_take_yet_rings_no_one()
    {
        var signal = new JobSignal();
        await using var worker = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = signal });
        await using var producer = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path });

        await producer.EnqueueAsync([TestJobs.New() with { RunAt = DateTimeOffset.UtcNow.AddHours(1) }]);
        await producer.SetQueuePausedAsync("default", paused: true);
        await producer.EnqueueAsync([TestJobs.New() with { RunAt = DateTimeOffset.UtcNow.AddHours(1) }, TestJobs.New() with { RunAt = DateTimeOffset.UtcNow.AddHours(2) }]);

        Assert.Equal(0, producer.Doorbell!.Rings);
        // Then one that can run: the ring proves the listener was there all along.
        await producer.EnqueueAsync([TestJobs.New()]);
        await Poll.UntilAsync(() => Task.FromResult(worker.Doorbell!.Wakes == 1), Deadline, () => $"wakes: {worker.Doorbell!.Wakes}");
    }

    [Fact]
    public async Task A_released_retried_or_resumed_job_rings_as_an_enqueue_does()
    {
        var signal = new JobSignal();
        await using var worker = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = signal });
        await using var other = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path });
        await other.SetQueuePausedAsync("default", paused: true);
        var id = (await other.EnqueueAsync([TestJobs.New()]))[0].Id;
        var afterEnqueue = other.Doorbell!.Rings;

        await other.SetQueuePausedAsync("default", paused: false);
        Assert.Equal(afterEnqueue + 1, other.Doorbell.Rings);

        var leased = Assert.Single(await other.LeaseAsync(new LeaseRequest("w-1", ["default"], 1, TimeSpan.FromMinutes(1))));
        await other.FinishAsync([JobOutcome.DeadLetter(leased.Token, TestJobs.Error(leased.Attempt, DateTimeOffset.UtcNow), "gave up")]);
        Assert.Equal(afterEnqueue + 1, other.Doorbell.Rings);
        Assert.Equal(AdminResult.Ok, await other.RetryAsync(id));
        Assert.Equal(afterEnqueue + 2, other.Doorbell.Rings);
        await Poll.UntilAsync(() => Task.FromResult(worker.Doorbell!.Wakes == afterEnqueue + 2), Deadline, () => $"wakes: {worker.Doorbell!.Wakes}, rings: {other.Doorbell.Rings}");
    }

    [Fact]
    public async Task A_job_enqueued_here_wakes_a_worker_host_in_another_process()
    {
        await using (var create = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path }))
        {
        }

        await using var child = ListeningChild.Start(_db.Path);
        await child.WaitForLineAsync("listening", Deadline);
        await using var producer = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path });

        await producer.EnqueueAsync([TestJobs.New()]);

        // The child's only wait is a day long: a "woken" line is the datagram arriving in the other process.
        await child.WaitForLineAsync("woken", Deadline);
    }

    [Fact]
    public async Task The_socket_of_a_process_killed_with_sigkill_is_removed_at_the_first_ring()
    {
        await using (var create = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path }))
        {
        }

        var folder = SqliteDoorbell.FolderFor(_db.Path);
        await using (var child = ListeningChild.Start(_db.Path))
        {
            await child.WaitForLineAsync("listening", Deadline);
            // SIGKILL: no dispose, so its socket file stays behind.
        }

        var orphan = Assert.Single(Directory.GetFiles(folder, "*.sock"));
        await using var producer = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path });
        await producer.EnqueueAsync([TestJobs.New()]);

        Assert.False(File.Exists(orphan), "the dead process's socket was kept");
        Assert.Equal(0, producer.Doorbell!.Rings);
    }

    [Fact]
    public async Task A_closed_store_removes_its_socket_and_the_wake_up_can_be_turned_off()
    {
        var folder = SqliteDoorbell.FolderFor(_db.Path);
        await using (var worker = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = new JobSignal() }))
        {
            Assert.Single(Directory.GetFiles(folder, "*.sock"));
        }

        Assert.Empty(Directory.GetFiles(folder, "*.sock"));
        await using var off = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, Signal = new JobSignal(), CrossProcessWakeUp = false });
        Assert.Null(off.Doorbell);
        Assert.Empty(Directory.GetFiles(folder, "*.sock"));
    }

    [Fact]
    public void A_path_too_long_for_a_socket_moves_the_folder_to_the_temporary_folder()
    {
        var shortPath = Path.Combine(_db.Directory, "jobs.db");
        var longPath = Path.Combine(_db.Directory, new string('a', 120), "jobs.db");

        Assert.Equal(shortPath + "-bell", SqliteDoorbell.FolderFor(shortPath));
        var moved = SqliteDoorbell.FolderFor(longPath);
        Assert.StartsWith(Path.GetTempPath(), moved, StringComparison.Ordinal);
        Assert.Equal(moved, SqliteDoorbell.FolderFor(longPath));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(Path.Combine(moved, "1234567-deadbeef.sock")) <= 107);
    }
}

/// <summary>The crash child in its <c>--listen</c> mode: a worker host's store in another process; disposing it sends SIGKILL.</summary>
internal sealed class ListeningChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ListeningChild(Process process) => _process = process;

    public static ListeningChild Start(string databasePath)
    {
        var child = new ListeningChild(new Process { StartInfo = StartInfo(databasePath, "--listen") });
        child._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                child._lines.Enqueue(line);
            }
        };
        child._process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                child._lines.Enqueue("stderr: " + line);
            }
        };
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>How to run the crash child (tests/Bulwark.Sqlite.CrashChild) with <paramref name="args"/>, its output redirected.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var childPath = typeof(ListeningChild).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "CrashChildPath").Value!;
        Assert.True(File.Exists(childPath), $"The crash child was not built at {childPath}; build tests/Bulwark.Sqlite.CrashChild.");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(childPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    public Task WaitForLineAsync(string line, TimeSpan timeout) =>
        Poll.UntilAsync(
            () => Task.FromResult(_lines.Contains(line)),
            timeout,
            () => $"the child never printed '{line}' (exited: {_process.HasExited}); it printed: {string.Join(" / ", _lines)}");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // Process.Kill sends SIGKILL on Unix.
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
