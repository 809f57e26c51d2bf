using System.Net;

namespace Bulwark.Server;

/// <summary>Judges the addresses a server listens on (as in <c>--urls</c> or <c>ASPNETCORE_URLS</c>).</summary>
public static class ListenAddress
{
    /// <summary>True for localhost, 127.0.0.0/8 and ::1 (with any port and scheme); false for wildcards (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>) and every other host.</summary>
    public static bool IsLoopback(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!Uri.TryCreate(address.Replace("://+", "://wildcard-plus", StringComparison.Ordinal).Replace("://*", "://wildcard-star", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
