using Microsoft.Data.Sqlite;

namespace Bulwark.Sqlite.Tests;

/// <summary>Statements the tests run straight on a database file, beside the store.</summary>
internal static class SqliteCommands
{
    internal static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>The statement's first value as a number (a count, an id).</summary>
    internal static long Count(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
