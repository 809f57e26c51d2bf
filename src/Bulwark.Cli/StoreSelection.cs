using System.Text.RegularExpressions;
using Bulwark.Cli.Commands;
using Bulwark.Hosting;
using Bulwark.Postgres;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Cli;

/// <summary>
/// What <c>--store</c> names: a <c>postgres://</c> URL or an Npgsql connection string (<c>Host=…</c>) selects the
/// PostgreSQL store; anything else is the path of a SQLite file. The one place serve, worker and the admin commands decide.
/// </summary>
internal static partial class StoreSelection
{
    public static bool IsPostgres(string store) => PostgresJobStore.IsPostgresStore(store);

    /// <summary>
    /// How to show the store to a person: the full path of a SQLite file, or the connection with its password replaced by
    /// <c>***</c>, because start-up lines and error messages end up in logs.
    /// </summary>
    public static string Describe(string store) =>
        !IsPostgres(store) ? Path.GetFullPath(store)
        : PostgresConnectionUrl(store) ? Redact(store)
        : $"PostgreSQL {Redact(store)}";

    private static bool PostgresConnectionUrl(string store) => store.TrimStart().Contains("://", StringComparison.Ordinal);

    /// <summary>Removes passwords from a URL (<c>user:secret@</c>) or a connection string (<c>Password=secret</c>, <c>Pwd=</c>).</summary>
    public static string Redact(string text) =>
        KeywordPassword().Replace(UrlPassword().Replace(text.Trim(), "${user}:***@"), "${key}=***");

    /// <summary>
    /// Refuses a store that cannot work, with the reason: a malformed connection string, or (with
    /// <paramref name="folderMustExist"/>, as <c>serve</c> asks) a SQLite path in a missing folder. Otherwise the SQLite
    /// store creates the folder, as <c>bulwark worker</c> always has.
    /// </summary>
    public static void Validate(string store, bool folderMustExist = false)
    {
        if (IsPostgres(store))
        {
            try
            {
                // Validates without connecting: the same parse UsePostgres does at configuration time.
                new ServiceCollection().AddBulwark().UsePostgres(store);
            }
            catch (ArgumentException ex)
            {
                // The parser quotes the text it refused, password included: show the redacted form instead.
                var reason = ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal).Replace(store.Trim(), Redact(store), StringComparison.Ordinal);
                throw new CliException(ExitCodes.Usage, $"--store: {reason}");
            }

            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(store));
        if (folderMustExist && directory is not null && !Directory.Exists(directory))
        {
            throw new CliException(ExitCodes.Usage, $"the folder of the store {Path.GetFullPath(store)} does not exist; create it or pass another --store path (or a postgres:// URL).");
        }
    }

    /// <summary>
    /// Configures <paramref name="builder"/> with the selected store. <paramref name="sqliteClock"/>, when given, is the
    /// clock the SQLite store judges leases by instead of the host's (PostgreSQL judges them by the database's clock).
    /// </summary>
    public static BulwarkBuilder Use(BulwarkBuilder builder, string store, TimeProvider? sqliteClock = null) =>
        IsPostgres(store) ? builder.UsePostgres(store) : builder.UseSqlite(Path.GetFullPath(store), sqliteClock is null ? null : o => o.Time = sqliteClock);

    /// <summary>
    /// Opens the selected store for a short admin command. Read-only commands pass <paramref name="createStore"/> false so a
    /// typo in a SQLite path does not create an empty file (a PostgreSQL schema is created by whoever connects first).
    /// </summary>
    public static async Task<(IJobStore Store, IJobQuery Query)> OpenAsync(string store, bool createStore, CancellationToken cancellationToken)
    {
        if (IsPostgres(store))
        {
            Validate(store);
            // No LISTEN connection: an admin command does not wait for work.
            var postgres = await PostgresJobStore.OpenAsync(new PostgresStoreOptions { ConnectionString = store, Listen = false }, cancellationToken);
            return (postgres, postgres);
        }

        var fullPath = Path.GetFullPath(store);
        if (!createStore && !File.Exists(fullPath))
        {
            throw new CliException(
                ExitCodes.Failure,
                $"There is no store at {fullPath}. Pass --store PATH (or set BULWARK_STORE) to the file the server and workers use, or a postgres:// URL; 'bulwark enqueue' creates one.");
        }

        var sqlite = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = fullPath }, cancellationToken);
        return (sqlite, sqlite);
    }

    [GeneratedRegex(@"(?<user>://[^:/@\s]*):[^@/\s]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?<key>\b(?:password|pwd))\s*=\s*(?:""[^""]*""|'[^']*'|[^;]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeywordPassword();
}
