using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server.Auth;

/// <summary>
/// Who may use Bulwark's endpoints (API, <c>/health/detailed</c>, dashboard), decided once here for every front end.
/// A valid <c>X-API-Key</c> grants its level; otherwise the ASP.NET Core authorization policies named in
/// <see cref="BulwarkServerOptions.AdminPolicy"/> and <see cref="BulwarkServerOptions.ReadPolicy"/> are evaluated against the
/// request's user. With neither keys nor policies configured, only callers on this machine get in: the guard covers
/// Bulwark's endpoints, never the host application's own.
/// </summary>
internal sealed class ServerAccess(ApiKeySet keys, BulwarkServerOptions options)
{
    /// <summary>How to open Bulwark's endpoints to other machines; said by every refusal in loopback-only mode.</summary>
    public const string HowToOpen =
        "Configure API keys (Bulwark:Server:AdminKeys:0 and Bulwark:Server:ReadKeys:0, or the environment variables "
        + "Bulwark__Server__AdminKeys__0 and Bulwark__Server__ReadKeys__0), or name an ASP.NET Core authorization policy "
        + "(AddBulwarkServer(o => o.AdminPolicy = \"…\"), or Bulwark:Server:AdminPolicy and ReadPolicy).";

    public bool KeysEnabled => keys.Enabled;

    public bool PoliciesEnabled => options.AdminPolicy is not null || options.ReadPolicy is not null;

    /// <summary>True when neither keys nor policies are configured: Bulwark's endpoints answer loopback callers only.</summary>
    public bool LoopbackOnly => !KeysEnabled && !PoliciesEnabled;

    /// <summary>The access of this request: the presented key's level, else the best policy that passes, else none.</summary>
    public async ValueTask<ApiAccess> ResolveAsync(HttpContext http, string? presentedKey)
    {
        if (LoopbackOnly)
        {
            return IsLocal(http) ? ApiAccess.Admin : ApiAccess.None;
        }

        if (KeysEnabled && !string.IsNullOrEmpty(presentedKey))
        {
            var byKey = keys.Check(presentedKey);
            if (byKey != ApiAccess.None || !PoliciesEnabled)
            {
                return byKey;
            }
        }

        if (!PoliciesEnabled)
        {
            return ApiAccess.None;
        }

        var authorization = http.RequestServices.GetRequiredService<IAuthorizationService>();
        if (options.AdminPolicy is { } admin && (await authorization.AuthorizeAsync(http.User, admin)).Succeeded)
        {
            return ApiAccess.Admin;
        }

        return options.ReadPolicy is { } read && (await authorization.AuthorizeAsync(http.User, read)).Succeeded ? ApiAccess.Read : ApiAccess.None;
    }

    /// <summary>
    /// A loopback peer, or none at all (an in-process test server, a Unix socket): both are this machine. Behind a reverse
    /// proxy on the same machine every caller looks local, which is why a real deployment configures keys or a policy.
    /// </summary>
    public static bool IsLocal(HttpContext http) => http.Connection.RemoteIpAddress is not { } ip || IPAddress.IsLoopback(ip);
}
