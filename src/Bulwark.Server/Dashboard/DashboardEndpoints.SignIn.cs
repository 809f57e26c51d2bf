using Bulwark.Server.Auth;

namespace Bulwark.Server.Dashboard;

/// <summary>Sign-in with an API key (the key is never echoed, logged or stored in clear) and sign-out.</summary>
internal sealed partial class DashboardEndpoints
{
    private IResult SignInForm(HttpContext http, string? returnUrl, string? error, int status = StatusCodes.Status200OK)
    {
        DashboardAccessFilter.SetSecurityHeaders(http);
        var page = new DashboardPage(_prefix, ApiAccess.None, _auth.KeysEnabled, _antiforgery.GetAndStoreTokens(http).RequestToken, _time.GetUtcNow(), !_auth.Protected);
        var body = !_auth.Protected
            ? $"<p class=\"notice\">No API keys are configured: the dashboard is open on loopback without signing in. {page.Link("/", "Go to the overview")}</p>"
            : !_auth.KeysEnabled
            ? $"<p class=\"notice\">This dashboard uses the application's own sign-in (an authorization policy), not API keys. {page.Link("/", "Go to the overview")}</p>"
            : (error is null ? "" : $"<p class=\"error\" id=\"signin-error\">{DashboardPage.E(error)}</p>")
              + $"<form method=\"post\" action=\"{DashboardPage.E(page.Url("/signin"))}\" class=\"signin\">{page.TokenInput}"
              + $"<input type=\"hidden\" name=\"returnUrl\" value=\"{DashboardPage.E(LocalReturn(returnUrl))}\">"
              + "<label>API key <input type=\"password\" name=\"key\" autocomplete=\"current-password\" required autofocus></label>"
              + "<button type=\"submit\" class=\"primary\">Sign in</button></form>"
              + "<p class=\"hint\">A read key shows everything; controls need an admin key. The key is kept in an HttpOnly cookie, sealed by the server.</p>";
        return page.Render(http, "Sign in", "", body, status);
    }

    private async Task<IResult> SignInAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (!await _antiforgery.IsRequestValidAsync(http))
        {
            return SignInForm(http, null, "The form expired; sign in again.", StatusCodes.Status400BadRequest);
        }

        var form = await http.Request.ReadFormAsync(cancellationToken);
        var returnUrl = LocalReturn(form["returnUrl"].ToString());
        var access = _auth.SignIn(http, form["key"].ToString(), _prefix);
        var remote = http.Connection.RemoteIpAddress?.ToString();
        if (access == ApiAccess.None)
        {
            DashboardLog.SignInRefused(_logger, remote);
            return SignInForm(http, returnUrl, "That key is not one this server knows. Check it (read keys: Bulwark:Server:ReadKeys, admin keys: Bulwark:Server:AdminKeys) and try again.", StatusCodes.Status401Unauthorized);
        }

        DashboardLog.SignedIn(_logger, remote, access.ToString().ToLowerInvariant());
        return Results.Redirect(returnUrl, permanent: false);
    }

    private IResult SignOut(HttpContext http)
    {
        _auth.SignOut(http, _prefix);
        return Results.Redirect(_prefix + "/signin");
    }

    /// <summary>Only a path inside the dashboard, so the sign-in form cannot be used to send someone elsewhere.</summary>
    private string LocalReturn(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url.StartsWith(_prefix, StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\', StringComparison.Ordinal)
            ? url
            : _prefix + "/";
}
