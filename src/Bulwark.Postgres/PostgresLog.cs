using Microsoft.Extensions.Logging;

namespace Bulwark.Postgres;

/// <summary>Every log event of the PostgreSQL store, with fixed ids.</summary>
internal static partial class PostgresLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Transient PostgreSQL error on attempt {Attempt}; retrying in {DelayMs} ms")]
    public static partial void TransientRetry(ILogger logger, Exception exception, int attempt, double delayMs);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "PostgreSQL write batch of {Count} operations failed")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "PostgreSQL notification listener lost its connection; reconnecting in {DelayMs} ms")]
    public static partial void ListenerReconnect(ILogger logger, Exception exception, double delayMs);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "PostgreSQL schema {Schema} migrated from version {From} to {To}")]
    public static partial void Migrated(ILogger logger, string schema, int from, int to);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "The connection broke during COMMIT of transaction {Xid} ({Count} operations), but the database committed it: its answers stand and it is not run again")]
    public static partial void CommitAnswerLost(ILogger logger, Exception exception, string xid, int count);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "The connection broke during COMMIT of transaction {Xid} ({Count} operations) and the database aborted it: running the batch again")]
    public static partial void CommitLostAborted(ILogger logger, string xid, int count);
}
