using Bulwark.Server.Api;

namespace Bulwark.Server.Auth;

/// <summary>
/// <c>X-API-Key</c> auth: GET and HEAD need a read or admin key, everything else an admin key. No key or an unknown key
/// is 401, a read key on a change is 403. With no keys configured every request passes (the server stays on loopback).
/// </summary>
internal sealed class ApiKeyFilter(ApiKeySet keys) : IEndpointFilter
{
    public const string Header = "X-API-Key";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (!keys.Enabled)
        {
            return next(context);
        }

        var http = context.HttpContext;
        var access = keys.Check(http.Request.Headers[Header].ToString());
        if (access == ApiAccess.None)
        {
            http.Response.Headers.WWWAuthenticate = "ApiKey header=\"X-API-Key\"";
            var detail = http.Request.Headers.ContainsKey(Header)
                ? "The X-API-Key header does not hold a key this server knows; check the key (read keys: Bulwark:Server:ReadKeys, admin keys: Bulwark:Server:AdminKeys)."
                : "This server requires an API key: send it in the X-API-Key header (the CLI takes --api-key or BULWARK_API_KEY).";
            return ValueTask.FromResult<object?>(ApiProblems.Create(http, StatusCodes.Status401Unauthorized, "API key required", detail));
        }

        var reads = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
        if (!reads && access != ApiAccess.Admin)
        {
            return ValueTask.FromResult<object?>(ApiProblems.Create(http, StatusCodes.Status403Forbidden, "Admin key required",
                $"This key may only read; {http.Request.Method} {http.Request.Path} changes state and needs an admin key (Bulwark:Server:AdminKeys)."));
        }

        return next(context);
    }
}
