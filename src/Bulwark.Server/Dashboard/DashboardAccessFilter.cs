using Bulwark.Server.Auth;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// Guards every dashboard route but sign-in and assets: no access sends a browser to sign in (401 for a form post), a
/// change needs an admin key (403 otherwise) and a valid antiforgery token (400 otherwise, nothing changed). Also sets the
/// security headers: no framing, no inline script, no caching.
/// </summary>
internal sealed class DashboardAccessFilter(string prefix, DashboardAuth auth, IAntiforgery antiforgery, TimeProvider time, ILogger<DashboardAccessFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        SetSecurityHeaders(http);
        var access = await auth.ResolveAsync(http);
        var posts = HttpMethods.IsPost(http.Request.Method);
        if (access == ApiAccess.None)
        {
            if (!auth.Protected)
            {
                Refuse(http, "not loopback while no keys are configured");
                return Page(http, access).Render(http, "Loopback only", "", $"<p class=\"error\">No API keys are configured, so the dashboard answers only on this machine (loopback). {DashboardPage.E(ServerAccess.HowToOpen)}</p>", StatusCodes.Status403Forbidden);
            }

            if (!auth.KeysEnabled)
            {
                // Policies only: the application's authentication decides; a challenge sends a browser to its sign-in.
                Refuse(http, "authorization policy not satisfied");
                return http.User.Identity?.IsAuthenticated == true ? Results.Forbid() : Results.Challenge();
            }

            if (!posts && http.Request.Path.StartsWithSegments(prefix + "/overview.json", StringComparison.Ordinal) is false)
            {
                var back = http.Request.Path + http.Request.QueryString;
                return Results.Redirect($"{prefix}/signin?returnUrl={Uri.EscapeDataString(back)}");
            }

            Refuse(http, "no valid key");
            return Page(http, access).Render(http, "Sign in required", "", $"<p class=\"error\">Sign in with an API key first.</p><p><a href=\"{DashboardPage.E(prefix + "/signin")}\">Sign in</a></p>", StatusCodes.Status401Unauthorized);
        }

        if (posts)
        {
            if (access != ApiAccess.Admin)
            {
                Refuse(http, "read-only key");
                var why = auth.KeysEnabled
                    ? "This key may only look. Changing queues, jobs, circuits or workers needs an admin key (Bulwark:Server:AdminKeys): sign out and sign in with one."
                    : "You may only look. Changing queues, jobs, circuits or workers needs the admin authorization policy (Bulwark:Server:AdminPolicy).";
                return Page(http, access).Render(http, "Admin access required", "", $"<p class=\"error\">{DashboardPage.E(why)}</p>", StatusCodes.Status403Forbidden);
            }

            if (!await antiforgery.IsRequestValidAsync(http))
            {
                Refuse(http, "missing or invalid antiforgery token");
                return Page(http, access).Render(http, "Form expired or forged", "", "<p class=\"error\">This form's antiforgery token is missing or invalid, so nothing was changed. Reload the page and submit the form again.</p>", StatusCodes.Status400BadRequest);
            }
        }

        return await next(context);
    }

    public static void SetSecurityHeaders(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // What antiforgery wants on a page carrying a token (it warns and overrides otherwise).
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
    }

    private DashboardPage Page(HttpContext http, ApiAccess access) => new(prefix, access, auth.KeysEnabled, antiforgery.GetAndStoreTokens(http).RequestToken, time.GetUtcNow(), !auth.Protected);

    private void Refuse(HttpContext http, string reason) =>
        DashboardLog.Refused(logger, http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress?.ToString(), reason);
}
