using System.Data.Common;
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
/// A PostgreSQL store may name the schema of Bulwark's tables: <c>?schema=NAME</c> in the URL or <c>Schema=NAME</c> in the
/// connection string (default <c>bulwark</c>), so several installations (or bench runs) can share one database.
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
            var (connection, schema) = SplitSchema(store);
            if (schema is not null && !SchemaName().IsMatch(schema))
            {
                throw new CliException(ExitCodes.Usage, $"--store: the schema '{schema}' is not usable; use lower-case letters, digits and underscores, starting with a letter (at most 63), such as schema=jobs_staging.");
            }

            try
            {
                // Validates without connecting: the same parse UsePostgres does at configuration time.
                new ServiceCollection().AddBulwark().UsePostgres(connection);
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
    public static BulwarkBuilder Use(BulwarkBuilder builder, string store, TimeProvider? sqliteClock = null)
    {
        if (!IsPostgres(store))
        {
            return builder.UseSqlite(Path.GetFullPath(store), sqliteClock is null ? null : o => o.Time = sqliteClock);
        }

        var (connection, schema) = SplitSchema(store);
        return schema is null ? builder.UsePostgres(connection) : builder.UsePostgres(connection, o => o with { Schema = schema });
    }

    /// <summary>
    /// Splits a PostgreSQL store into the connection Npgsql is given and the schema named by <c>schema=</c> in a URL's query
    /// or a <c>Schema=</c> keyword of a connection string (null when none is named: the store's default). Npgsql itself has no
    /// such option, so it must not see it. Text that does not parse is returned whole, for the store's own parse to refuse.
    /// </summary>
    public static (string Connection, string? Schema) SplitSchema(string store)
    {
        var text = store.Trim();
        if (PostgresConnectionUrl(text))
        {
            var query = text.IndexOf('?', StringComparison.Ordinal);
            if (query < 0)
            {
                return (text, null);
            }

            string? schema = null;
            var kept = new List<string>();
            foreach (var pair in text[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = pair.Split('=', 2);
                if (Uri.UnescapeDataString(kv[0]).Equals("schema", StringComparison.OrdinalIgnoreCase))
                {
                    schema = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
                }
                else
                {
                    kept.Add(pair);
                }
            }

            return (kept.Count == 0 ? text[..query] : $"{text[..query]}?{string.Join('&', kept)}", schema);
        }

        var keywords = new DbConnectionStringBuilder();
        try
        {
            keywords.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            return (text, null);
        }

        if (!keywords.TryGetValue("schema", out var named))
        {
            return (text, null);
        }

        keywords.Remove("schema");
        return (keywords.ConnectionString, Convert.ToString(named, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Opens the selected store for a short admin command. Read-only commands pass <paramref name="createStore"/> false so a
    /// typo in a SQLite path does not create an empty file (a PostgreSQL schema is created by whoever connects first).
    /// </summary>
    public static async Task<(IJobStore Store, IJobQuery Query)> OpenAsync(string store, bool createStore, CancellationToken cancellationToken)
    {
        if (IsPostgres(store))
        {
            Validate(store);
            var (connection, schema) = SplitSchema(store);
            // No LISTEN connection: an admin command does not wait for work.
            var options = new PostgresStoreOptions { ConnectionString = connection, Listen = false };
            var postgres = await PostgresJobStore.OpenAsync(schema is null ? options : options with { Schema = schema }, cancellationToken);
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

    // The PostgreSQL store's own rule for schema names, checked here so the CLI can name the option to change.
    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();

    [GeneratedRegex(@"(?<user>://[^:/@\s]*):[^@/\s]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?<key>\b(?:password|pwd))\s*=\s*(?:""[^""]*""|'[^']*'|[^;]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeywordPassword();
}
