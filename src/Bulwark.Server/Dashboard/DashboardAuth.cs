using System.Net;
using System.Security.Cryptography;
using Bulwark.Server.Auth;
using Microsoft.AspNetCore.DataProtection;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// Who is looking at the dashboard. The sign-in cookie holds the key sealed with data protection (so it is neither readable
/// nor forgeable by the browser) and is checked against the configured keys on every request, so removing a key signs its
/// users out. An <c>X-API-Key</c> header is accepted too (scripts, the benchmark).
/// </summary>
internal sealed class DashboardAuth(ApiKeySet keys, IDataProtectionProvider protection)
{
    public const string Cookie = "bulwark_dashboard";
    public const string AntiforgeryCookie = "bulwark_dashboard_af";
    public const string AntiforgeryField = "__bulwark_af";
    private const string AccessItem = "bulwark.dashboard.access";

    private readonly IDataProtector _protector = protection.CreateProtector("Bulwark.Dashboard.SignIn.v1");

    /// <summary>False in loopback-only mode (no keys configured).</summary>
    public bool KeysEnabled => keys.Enabled;

    public ApiAccess Resolve(HttpContext http)
    {
        if (http.Items.TryGetValue(AccessItem, out var cached) && cached is ApiAccess known)
        {
            return known;
        }

        var access = ResolveUncached(http);
        http.Items[AccessItem] = access;
        return access;
    }

    /// <summary>Checks a key typed into the sign-in form; on success sets the cookie.</summary>
    public ApiAccess SignIn(HttpContext http, string? key, string path)
    {
        var access = keys.Check(key);
        if (access != ApiAccess.None)
        {
            http.Response.Cookies.Append(Cookie, _protector.Protect(key!), CookieOptions(http, path));
        }

        return access;
    }

    public void SignOut(HttpContext http, string path) => http.Response.Cookies.Delete(Cookie, CookieOptions(http, path));

    public static bool IsLoopback(HttpContext http) => http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);

    private ApiAccess ResolveUncached(HttpContext http)
    {
        if (!keys.Enabled)
        {
            // Loopback-only mode: whoever can reach the port from this machine may do everything, as with the API.
            return IsLoopback(http) ? ApiAccess.Admin : ApiAccess.None;
        }

        if (http.Request.Headers.TryGetValue(ApiKeyFilter.Header, out var header) && header.ToString().Length > 0)
        {
            return keys.Check(header.ToString());
        }

        if (http.Request.Cookies.TryGetValue(Cookie, out var sealedKey) && !string.IsNullOrEmpty(sealedKey))
        {
            try
            {
                return keys.Check(_protector.Unprotect(sealedKey));
            }
            catch (CryptographicException)
            {
                return ApiAccess.None;
            }
        }

        return ApiAccess.None;
    }

    private static CookieOptions CookieOptions(HttpContext http, string path) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = path,
        IsEssential = true,
    };
}
