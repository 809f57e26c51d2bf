using System.Globalization;

namespace Bulwark.Server.Api;

/// <summary>Writes <c>application/problem+json</c> answers.</summary>
internal static class ApiProblems
{
    public static IResult Create(HttpContext context, int status, string title, string detail, TimeSpan? retryAfter = null, IDictionary<string, object?>? extensions = null)
    {
        if (retryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return Results.Problem(detail: detail, statusCode: status, title: title, instance: context.Request.Path, extensions: extensions);
    }
}
