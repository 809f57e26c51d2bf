using Bulwark.StoreContract;
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

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
