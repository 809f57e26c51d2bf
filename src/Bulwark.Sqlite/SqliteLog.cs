using Microsoft.Extensions.Logging;

namespace Bulwark.Sqlite;

/// <summary>The SQLite store's log events (51xx).</summary>
internal static partial class SqliteLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "The database {Path} is locked by another process for {Seconds}s: a process holding its write lock is stopped or hung (SIGSTOP, a paused debugger or container). Writes fail until it resumes or exits; see docs/sqlite.md")]
    public static partial void DatabaseLocked(ILogger logger, string path, long seconds);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "The database {Path} is writable again after being locked by another process for {Seconds}s")]
    public static partial void DatabaseUnlocked(ILogger logger, string path, long seconds);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "Cross-process wake-up is off for this process ({Folder}: {Reason}); workers in other processes find new jobs at their next poll")]
    public static partial void DoorbellUnavailable(ILogger logger, string folder, string reason);
}
