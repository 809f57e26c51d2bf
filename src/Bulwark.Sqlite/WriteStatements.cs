using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite;

/// <summary>
/// The prepared statements of one connection that writes: the group-commit writer's, kept for its life, or an
/// application's inside its open transaction for one transactional enqueue (enlisted in that transaction, which
/// Microsoft.Data.Sqlite requires of a command, and finalized when the enqueue ends, so nothing of the store stays on a
/// connection the application owns and pools). Used by one thread at a time.
/// </summary>
internal sealed class WriteStatements(SqliteConnection connection, SqliteTransaction? transaction, int commandTimeoutSeconds) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Bulwark.Jobs.BackoffPolicy> _backoffs = new(StringComparer.Ordinal);

    /// <summary>A prepared command kept with the others; parameters are cleared for each use.</summary>
    internal SqliteCommand Command(string sql)
    {
        var command = PreparedCommand(sql);
        command.Parameters.Clear();
        return command;
    }

    /// <summary>A prepared command whose parameter objects are kept, for hot statements that only set values.</summary>
    internal SqliteCommand PreparedCommand(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = transaction;
            command.CommandTimeout = commandTimeoutSeconds;
            _commands.Add(sql, command);
        }

        return command;
    }

    /// <summary>A statement prepared once and driven through the SQLite API (see <see cref="RawStatement"/>).</summary>
    internal RawStatement Raw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(connection, sql);
            _raw.Add(sql, statement);
        }

        return statement;
    }

    /// <summary>Parses a stored backoff text once (policies are immutable records).</summary>
    internal Bulwark.Jobs.BackoffPolicy Backoff(string text)
    {
        if (!_backoffs.TryGetValue(text, out var policy))
        {
            if (_backoffs.Count >= 1024)
            {
                // Bounded: a store with endless distinct policies just parses more often.
                _backoffs.Clear();
            }

            policy = Bulwark.Jobs.BackoffPolicy.Parse(text);
            _backoffs.Add(text, policy);
        }

        return policy;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        foreach (var statement in _raw.Values)
        {
            statement.Dispose();
        }

        _raw.Clear();
    }
}
