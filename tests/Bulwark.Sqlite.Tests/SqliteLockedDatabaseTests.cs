using Bulwark.StoreContract;
using Bulwark.TestProcesses;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Bulwark.Sqlite.Tests;

/// <summary>
/// Another process holding the write lock (as a process stopped mid-write does) must not stall the writer silently:
/// writes fail after the busy timeout with an error naming the situation, a warning says so, and writing resumes once
/// the lock is released.
/// </summary>
public sealed class SqliteLockedDatabaseTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDatabase _db = new();

    public void Dispose() => _db.Dispose();

    [Fact]
    public async Task A_write_lock_held_elsewhere_fails_writes_after_the_busy_timeout_with_a_clear_error_and_a_warning()
    {
        var logs = new CapturingLoggerFactory();
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, BusyTimeout = TimeSpan.FromMilliseconds(300), LoggerFactory = logs });
        await using (var holder = new SqliteConnection($"Data Source={_db.Path};Pooling=False"))
        {
            await holder.OpenAsync();
            await ExecuteAsync(holder, "BEGIN IMMEDIATE");

            var refused = await Assert.ThrowsAsync<SqliteException>(() => store.EnqueueAsync([TestJobs.New()]).WaitAsync(Deadline));

            Assert.Contains("is locked by another process for", refused.Message, StringComparison.Ordinal);
            Assert.Contains(_db.Path, refused.Message, StringComparison.Ordinal);
            Assert.Equal(5, refused.SqliteErrorCode);
            Assert.Contains(logs.Entries, e => e.EventId == 5101 && e.Level == LogLevel.Warning && e.Message.Contains("locked by another process", StringComparison.Ordinal));
            await ExecuteAsync(holder, "ROLLBACK");
        }

        var stored = await store.EnqueueAsync([TestJobs.New()]).WaitAsync(Deadline);

        Assert.Single(stored);
        Assert.Contains(logs.Entries, e => e.EventId == 5102);
        Assert.Single((await store.ListJobsAsync(new Bulwark.Storage.JobListQuery())).Items);
    }

    [Fact]
    public async Task A_write_lock_released_elsewhere_is_taken_by_the_quick_retries_not_after_the_busy_handlers_sleeps()
    {
        // A wide window, so the release below always lands inside it however slow this machine is.
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, LockQuickRetryWindow = TimeSpan.FromSeconds(30) });
        await using var holder = new SqliteConnection($"Data Source={_db.Path};Pooling=False");
        await holder.OpenAsync();
        await ExecuteAsync(holder, "BEGIN IMMEDIATE");

        var enqueue = store.EnqueueAsync([TestJobs.New()]);
        await Poll.UntilAsync(() => Task.FromResult(store.LockWaits.BusyTries >= 3), Deadline, () => $"{store.LockWaits.BusyTries} busy tries");
        Assert.False(enqueue.IsCompleted);
        await ExecuteAsync(holder, "ROLLBACK");
        await enqueue.WaitAsync(Deadline);

        Assert.Equal((1L, 0L), (store.LockWaits.Quick, store.LockWaits.Slow));
        Assert.Single((await store.ListJobsAsync(new Bulwark.Storage.JobListQuery())).Items);
    }

    [Fact]
    public async Task A_write_lock_held_past_the_quick_window_is_waited_for_by_the_busy_handler_and_then_taken()
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _db.Path, LockQuickRetryWindow = TimeSpan.FromMilliseconds(5) });
        await using var holder = new SqliteConnection($"Data Source={_db.Path};Pooling=False");
        await holder.OpenAsync();
        await ExecuteAsync(holder, "BEGIN IMMEDIATE");

        var enqueue = store.EnqueueAsync([TestJobs.New()]);
        await Poll.UntilAsync(() => Task.FromResult(store.LockWaits.BusyTries >= 1), Deadline, () => $"{store.LockWaits.BusyTries} busy tries");
        // Past the window the quick tries stop: the count settles while the lock is still held.
        await Poll.UntilAsync(async () =>
        {
            var before = store.LockWaits.BusyTries;
            await Task.Delay(50);
            return store.LockWaits.BusyTries == before;
        }, Deadline, () => $"{store.LockWaits.BusyTries} busy tries and counting");
        Assert.False(enqueue.IsCompleted);
        await ExecuteAsync(holder, "ROLLBACK");
        await enqueue.WaitAsync(Deadline);

        Assert.Equal((0L, 1L), (store.LockWaits.Quick, store.LockWaits.Slow));
        Assert.Single((await store.ListJobsAsync(new Bulwark.Storage.JobListQuery())).Items);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
