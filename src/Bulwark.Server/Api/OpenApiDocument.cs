using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;

namespace Bulwark.Server.Api;

/// <summary>
/// Builds the OpenAPI 3.1 document of the API from its own endpoints (route, method, summary), so it cannot drift from
/// what is mapped. Bodies are described in docs/api.md; here every operation lists its problem+json errors.
/// </summary>
internal static class OpenApiDocument
{
    public static JsonObject Build(EndpointDataSource endpoints, string prefix)
    {
        var paths = new JsonObject();
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            var route = "/" + endpoint.RoutePattern.RawText?.TrimStart('/');
            if (!route.StartsWith(prefix + "/", StringComparison.Ordinal) || route.Contains("{**", StringComparison.Ordinal) || route.EndsWith("openapi.json", StringComparison.Ordinal))
            {
                continue;
            }

            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [];
            var summary = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IEndpointSummaryMetadata>()?.Summary ?? "";
            if (paths[route] is not JsonObject item)
            {
                item = new JsonObject();
                paths[route] = item;
            }

            foreach (var method in methods)
            {
                var parameters = new JsonArray();
                foreach (var parameter in endpoint.RoutePattern.Parameters)
                {
                    parameters.Add(new JsonObject { ["name"] = parameter.Name, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
                }

                item[method.ToLowerInvariant()] = new JsonObject
                {
                    ["summary"] = summary,
                    ["parameters"] = parameters,
                    ["security"] = new JsonArray(new JsonObject { ["apiKey"] = new JsonArray() }),
                    ["responses"] = new JsonObject
                    {
                        [method == "POST" && (route.EndsWith("/jobs", StringComparison.Ordinal) || route.EndsWith("/flows", StringComparison.Ordinal)) ? "201" : "200"] = new JsonObject { ["description"] = "OK (application/json, snake_case)" },
                        ["4XX"] = Problem("Bad input, missing key (401), read key on a change (403), unknown id (404), queue full (429, Retry-After), payload too large (413)"),
                        ["503"] = Problem("Store unavailable: storage circuit open (Retry-After)"),
                    },
                };
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = "Bulwark API", ["version"] = typeof(OpenApiDocument).Assembly.GetName().Version?.ToString(3) ?? "0" },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject { ["apiKey"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "X-API-Key" } },
            },
        };
    }

    private static JsonObject Problem(string description) => new()
    {
        ["description"] = description,
        ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } } },
    };
}
