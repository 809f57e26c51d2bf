using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Bulwark.Jobs;
using Bulwark.Server.Auth;

namespace Bulwark.Server.Dashboard;

/// <summary>Renders one dashboard response: the layout, links under the prefix, and forms carrying the antiforgery token.</summary>
internal sealed class DashboardPage(string prefix, ApiAccess access, bool keysEnabled, string? token, DateTimeOffset now, bool loopbackOnly = false)
{
    public string Prefix => prefix;

    public DateTimeOffset Now => now;

    /// <summary>Controls are rendered for admin keys only; the endpoints refuse the rest anyway.</summary>
    public bool CanControl => access == ApiAccess.Admin;

    // Every script and markup character is still encoded; letters and punctuation beyond ASCII are left readable.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public static string E(string? text) => Encoder.Encode(text ?? "");

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "—";

    public string Age(DateTimeOffset? since) => since is { } s ? Duration(now - s) : "—";

    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            return "in " + Duration(-span);
        }

        return span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes}m {span.Seconds}s"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : $"{(int)span.TotalDays}d {span.Hours}h";
    }

    public string Url(string path) => prefix + path;

    public string Link(string path, string text, string css = "") =>
        $"<a href=\"{E(Url(path))}\"{(css.Length > 0 ? $" class=\"{css}\"" : "")}>{E(text)}</a>";

    public static string State(JobState state) => $"<span class=\"state state-{state.ToName()}\">{state.ToName()}</span>";

    public string TokenInput => $"<input type=\"hidden\" name=\"{DashboardAuth.AntiforgeryField}\" value=\"{E(token)}\">";

    /// <summary>A POST form of one button (plus hidden fields).</summary>
    public string Form(string action, string button, string css = "", params (string Name, string Value)[] fields)
    {
        var html = new StringBuilder();
        html.Append($"<form method=\"post\" action=\"{E(Url(action))}\" class=\"inline\">").Append(TokenInput);
        foreach (var (name, value) in fields)
        {
            html.Append($"<input type=\"hidden\" name=\"{E(name)}\" value=\"{E(value)}\">");
        }

        html.Append($"<button type=\"submit\" class=\"{css}\">{E(button)}</button></form>");
        return html.ToString();
    }

    public IResult Render(HttpContext http, string title, string nav, string body, int status = StatusCodes.Status200OK)
    {
        var html = new StringBuilder(4096);
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append($"<title>{E(title)} · Bulwark</title>")
            .Append($"<link rel=\"stylesheet\" href=\"{E(Url("/assets/dashboard.css"))}\">")
            .Append($"<script src=\"{E(Url("/assets/dashboard.js"))}\" defer></script>")
            .Append($"</head><body data-prefix=\"{E(prefix)}\" data-page=\"{E(nav)}\"><header><span class=\"brand\">Bulwark</span><nav>");
        if (access != ApiAccess.None)
        {
            foreach (var (key, path, text) in new[]
            {
                ("overview", "", "Overview"), ("jobs", "/jobs", "Jobs"), ("dead-letters", "/dead-letters", "Dead letters"),
                ("workers", "/workers", "Workers"), ("controls", "/controls", "Controls"),
            })
            {
                html.Append(Link(path.Length == 0 ? "/" : path, text, key == nav ? "active" : ""));
            }

            html.Append($"</nav><form class=\"find\" method=\"get\" action=\"{E(Url("/jobs/find"))}\">")
                .Append("<input name=\"q\" placeholder=\"Find job by id or key\" aria-label=\"Find job by id or key\"><button type=\"submit\">Find</button></form>")
                .Append($"<span class=\"access\" data-access=\"{AccessName}\">{E(AccessText)}</span>");
            if (keysEnabled)
            {
                html.Append(Form("/signout", "Sign out", "link"));
            }
        }
        else
        {
            html.Append("</nav>");
        }

        html.Append($"</header><main><h1>{E(title)}</h1>").Append(body).Append("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private string AccessName => access switch
    {
        ApiAccess.Admin => "admin",
        ApiAccess.Read => "read",
        _ => "none",
    };

    private string AccessText => (access, loopbackOnly, keysEnabled) switch
    {
        (ApiAccess.Admin, true, _) => "loopback · no keys configured",
        (ApiAccess.Admin, false, true) => "admin key",
        (ApiAccess.Admin, false, false) => "admin",
        (ApiAccess.Read, _, true) => "read-only key",
        (ApiAccess.Read, _, false) => "read-only",
        _ => "",
    };
}
