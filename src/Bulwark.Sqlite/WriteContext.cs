using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

/// <summary>
/// What a write operation sees: a connection inside an open transaction (the writer's, or an application's for a
/// transactional enqueue), its statements, and the store's now.
/// </summary>
internal sealed class WriteContext(SqliteConnection connection, long now, WriteStatements writer)
{
    internal SqliteConnection Connection { get; } = connection;

    /// <summary>The store clock at the start of the batch, in unix milliseconds.</summary>
    internal long Now { get; } = now;

    /// <summary>A cached prepared command with no parameters.</summary>
    internal SqliteCommand Command(string sql) => writer.Command(sql);

    /// <summary>A cached prepared command keeping its parameter objects (set values by name).</summary>
    internal SqliteCommand PreparedCommand(string sql) => writer.PreparedCommand(sql);

    /// <summary>A statement prepared once, bound by position through the SQLite API.</summary>
    internal RawStatement Raw(string sql) => writer.Raw(sql);

    /// <summary>True once an operation of the batch has made work available that a worker could take.</summary>
    internal bool Woken { get; private set; }

    /// <summary>
    /// Marks that this operation made a job leasable (enqueued ready, promoted, released, retried, resumed…): after the
    /// commit, the writer rings workers in other processes. A rolled-back operation may leave it set; a spare ring only
    /// costs each worker one lease call.
    /// </summary>
    internal void Wake() => Woken = true;

    /// <summary>The parsed backoff policy of a stored text; a store holds few distinct ones, so each is parsed once.</summary>
    internal Bulwark.Jobs.BackoffPolicy Backoff(string text) => writer.Backoff(text);
}
