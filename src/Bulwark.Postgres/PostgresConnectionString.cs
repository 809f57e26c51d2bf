using System.Globalization;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>Accepts both Npgsql connection strings and <c>postgres://</c> URLs, as operators paste either.</summary>
internal static class PostgresConnectionString
{
    public static bool IsUrl(string text) =>
        text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The connection string the store's own data source uses: <see cref="Normalize"/>, plus automatic preparation of the
    /// store's statements (its hot statements repeat with the same text) unless the operator chose a value.
    /// </summary>
    public static string ForStore(string text)
    {
        var builder = new NpgsqlConnectionStringBuilder(Normalize(text));
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }

        return builder.ConnectionString;
    }

    public static string Normalize(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("The PostgreSQL connection string is empty; give Host=…;Database=… or postgres://user@host:5432/db.", nameof(text));
        }

        text = text.Trim();
        if (!IsUrl(text))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(text).ConnectionString;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"'{text}' is not a valid Npgsql connection string ({ex.Message}); give Host=…;Database=… or postgres://user@host:5432/db.", nameof(text), ex);
            }
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{text}' is not a valid PostgreSQL URL; use postgres://user:password@host:5432/database.", nameof(text));
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"'{key}' in '{text}' is not a connection option Npgsql knows ({ex.Message})."), nameof(text), ex);
            }
        }

        return builder.ConnectionString;
    }
}
