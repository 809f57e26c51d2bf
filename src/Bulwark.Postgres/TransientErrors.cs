using System.Net.Sockets;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>Which failures are worth retrying: the connection or the server blinked, or the transaction lost a race.</summary>
internal static class TransientErrors
{
    public static bool IsTransient(Exception ex) => ex switch
    {
        PostgresException pg => pg.SqlState is "40001" or "40P01" or "57P01" or "57P02" or "57P03" or "53300" or "55P03" || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.IsTransient,
        NpgsqlException npg => npg.IsTransient || npg.InnerException is IOException or SocketException or TimeoutException,
        IOException or SocketException => true,
        _ => false,
    };
}
