using Npgsql;

namespace Bulwark.Sample.Web;

/// <summary>Where jobs (and, on PostgreSQL, orders) live: <c>Bulwark:Store</c> is a SQLite file path or a PostgreSQL connection.</summary>
internal sealed record SampleStore(bool IsPostgres, string Location, string Schema)
{
    public static SampleStore From(IConfiguration configuration)
    {
        var store = configuration["Bulwark:Store"];
        if (string.IsNullOrWhiteSpace(store))
        {
            store = "sample.db";
        }

        var schema = configuration["Bulwark:Postgres:Schema"] ?? "bulwark";
        var postgres = store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || store.Contains("Host=", StringComparison.OrdinalIgnoreCase);
        return new SampleStore(postgres, store, schema);
    }

    /// <summary>The Npgsql form of <see cref="Location"/>, for the app's own connections (Bulwark accepts either form itself).</summary>
    public string NpgsqlConnectionString()
    {
        if (!Location.Contains("://", StringComparison.Ordinal))
        {
            return Location;
        }

        var url = new Uri(Location);
        var user = url.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = url.Host,
            Port = url.IsDefaultPort || url.Port < 0 ? 5432 : url.Port,
            Database = Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')),
        };
        if (user[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user[0]);
        }

        if (user.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(user[1]);
        }

        return builder.ConnectionString;
    }
}
