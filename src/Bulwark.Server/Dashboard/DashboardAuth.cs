using System.Security.Cryptography;
using Bulwark.Server.Auth;
using Microsoft.AspNetCore.DataProtection;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// Who is looking at the dashboard. The sign-in cookie holds the key sealed with data protection (so it is neither readable
/// nor forgeable by the browser) and is checked against the configured keys on every request, so removing a key signs its
/// users out. An <c>X-API-Key</c> header is accepted too (scripts, the benchmark). Without a key, the server's
/// authorization policies decide (<see cref="ServerAccess"/>), so an app's own sign-in works for the dashboard too.
/// </summary>
internal sealed class DashboardAuth(ApiKeySet keys, ServerAccess access, IDataProtectionProvider protection)
{
    public const string Cookie = "bulwark_dashboard";
    public const string AntiforgeryCookie = "bulwark_dashboard_af";
    public const string AntiforgeryField = "__bulwark_af";
    private const string AccessItem = "bulwark.dashboard.access";

    private readonly IDataProtector _protector = protection.CreateProtector("Bulwark.Dashboard.SignIn.v1");

    /// <summary>False when signing in with a key is not possible (loopback-only mode, or policies only).</summary>
    public bool KeysEnabled => keys.Enabled;

    /// <summary>False in loopback-only mode (neither keys nor policies configured).</summary>
    public bool Protected => !access.LoopbackOnly;

    /// <summary>True when the application's authorization policies decide access (its sign-in applies).</summary>
    public bool PoliciesEnabled => access.PoliciesEnabled;

    /// <summary>The access resolved for this request by the access filter (none before it ran).</summary>
    public static ApiAccess Resolve(HttpContext http) =>
        http.Items.TryGetValue(AccessItem, out var cached) && cached is ApiAccess known ? known : ApiAccess.None;

    public async ValueTask<ApiAccess> ResolveAsync(HttpContext http)
    {
        if (http.Items.TryGetValue(AccessItem, out var cached) && cached is ApiAccess known)
        {
            return known;
        }

        var resolved = await access.ResolveAsync(http, PresentedKey(http));
        http.Items[AccessItem] = resolved;
        return resolved;
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

    /// <summary>The key in the <c>X-API-Key</c> header, else the one sealed in the sign-in cookie.</summary>
    private string? PresentedKey(HttpContext http)
    {
        if (http.Request.Headers.TryGetValue(ApiAccessFilter.Header, out var header) && header.ToString().Length > 0)
        {
            return header.ToString();
        }

        if (keys.Enabled && http.Request.Cookies.TryGetValue(Cookie, out var sealedKey) && !string.IsNullOrEmpty(sealedKey))
        {
            try
            {
                return _protector.Unprotect(sealedKey);
            }
            catch (CryptographicException)
            {
                return null;
            }
        }

        return null;
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
