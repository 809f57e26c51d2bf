using Bulwark.Server.Api;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Auth;

/// <summary>
/// Access to the API and <c>/health/detailed</c>: GET and HEAD need read access, everything else admin access (see
/// <see cref="ServerAccess"/> for how a request gets either). No access is 401 (403 for a remote caller in loopback-only
/// mode), read access on a change is 403, each with a problem+json body saying what to change.
/// </summary>
internal sealed class ApiAccessFilter(ServerAccess access, BulwarkServerOptions options, ILogger<ApiAccessFilter> logger) : IEndpointFilter
{
    public const string Header = "X-API-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var granted = await access.ResolveAsync(http, http.Request.Headers[Header].ToString());
        if (granted == ApiAccess.None)
        {
            return Refusal(http);
        }

        var reads = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
        if (!reads && granted != ApiAccess.Admin)
        {
            var detail = access.PoliciesEnabled && !access.KeysEnabled
                ? $"{http.Request.Method} {http.Request.Path} changes state and needs the admin policy ('{options.AdminPolicy ?? "none configured"}', Bulwark:Server:AdminPolicy)."
                : $"This key may only read; {http.Request.Method} {http.Request.Path} changes state and needs an admin key (Bulwark:Server:AdminKeys).";
            return ApiProblems.Create(http, StatusCodes.Status403Forbidden, access.PoliciesEnabled ? "Admin access required" : "Admin key required", detail);
        }

        return await next(context);
    }

    private IResult Refusal(HttpContext http)
    {
        if (access.LoopbackOnly)
        {
            ServerLog.RefusedRemote(logger, http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress?.ToString());
            return ApiProblems.Create(http, StatusCodes.Status403Forbidden, "Loopback only",
                "No API keys or authorization policy are configured, so Bulwark's endpoints answer callers on this machine only. " + ServerAccess.HowToOpen);
        }

        if (access.KeysEnabled)
        {
            http.Response.Headers.WWWAuthenticate = "ApiKey header=\"X-API-Key\"";
        }

        var presented = http.Request.Headers.ContainsKey(Header);
        var detail = (access.KeysEnabled, access.PoliciesEnabled, presented) switch
        {
            (true, false, true) => "The X-API-Key header does not hold a key this server knows; check the key (read keys: Bulwark:Server:ReadKeys, admin keys: Bulwark:Server:AdminKeys).",
            (true, false, false) => "This server requires an API key: send it in the X-API-Key header (the CLI takes --api-key or BULWARK_API_KEY).",
            (true, true, _) => $"Send a known API key in the X-API-Key header, or credentials that satisfy the authorization policy '{options.ReadPolicy ?? options.AdminPolicy}'.",
            _ => $"The request's user does not satisfy the authorization policy '{options.ReadPolicy ?? options.AdminPolicy}' (Bulwark:Server:ReadPolicy / AdminPolicy); sign in as the application's authentication expects.",
        };
        var status = http.User.Identity?.IsAuthenticated == true && !presented ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
        var title = status == StatusCodes.Status403Forbidden ? "Access denied" : access.PoliciesEnabled ? "Authentication required" : "API key required";
        return ApiProblems.Create(http, status, title, detail);
    }
}
