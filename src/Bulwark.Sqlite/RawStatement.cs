using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Bulwark.Sqlite;

/// <summary>
/// A statement prepared once on the writer's connection and driven through the SQLite API directly: values bound by
/// position (or a name looked up in the statement), rows read by column number, no reader or parameter objects per
/// execution. For the per-row insert, where ADO.NET's per-execution work (statement lookup, binding by name, reader
/// setup and disposal) cost about a third of the row's time, and for the lease, where it cost a fifth.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    internal RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The writer's connection is not open.");
        var rc = raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out _statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    internal void Bind(int position, long value) => Check(raw.sqlite3_bind_int64(_statement, position, value));

    internal void Bind(int position, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, position) : raw.sqlite3_bind_text(_statement, position, value));

    internal void Bind(int position, long? value) =>
        Check(value is { } v ? raw.sqlite3_bind_int64(_statement, position, v) : raw.sqlite3_bind_null(_statement, position));

    internal void Bind(string name, long value) => Bind(Index(name), value);

    internal void Bind(string name, string? value) => Bind(Index(name), value);

    /// <summary>Advances to the next row: true while there is one. Call <see cref="Reset"/> when done (in a finally).</summary>
    internal bool Step()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return false;
    }

    /// <summary>Runs a statement that returns no rows and gives SQLite's result code instead of throwing; then resets it.</summary>
    internal int TryExecute()
    {
        try
        {
            return raw.sqlite3_step(_statement);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>Readies the statement for its next execution and drops the bound values.</summary>
    internal void Reset()
    {
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
    }

    internal long Int64(int column) => raw.sqlite3_column_int64(_statement, column);

    internal long? NullableInt64(int column) =>
        raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(_statement, column);

    internal string? Text(int column) =>
        raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(_statement, column).utf8_to_string();

    /// <summary>Runs the insert and returns the new row's id; a failure throws the same <see cref="SqliteException"/> ADO.NET would.</summary>
    internal long Insert()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _db);
            }

            return raw.sqlite3_last_insert_rowid(_db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
            raw.sqlite3_clear_bindings(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private int Index(string name)
    {
        var index = raw.sqlite3_bind_parameter_index(_statement, name);
        return index > 0 ? index : throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
