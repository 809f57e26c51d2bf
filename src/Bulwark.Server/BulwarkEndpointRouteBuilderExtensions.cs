using Bulwark.Server.Api;
using Bulwark.Server.Auth;
using Bulwark.Server.Health;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Server;

/// <summary><c>app.MapBulwarkApi("/api/v1"); app.MapBulwarkHealth(); app.MapBulwarkMetrics();</c></summary>
public static class BulwarkEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the REST API (docs/api.md) under <paramref name="prefix"/>, with access by <c>X-API-Key</c> or authorization
    /// policy (<see cref="BulwarkServerOptions.AdminPolicy"/>) and problem+json errors,
    /// and its OpenAPI document at <c>{prefix}/openapi.json</c>. Needs <c>AddBulwark</c> and <c>AddBulwarkServer</c>.
    /// </summary>
    public static RouteGroupBuilder MapBulwarkApi(this IEndpointRouteBuilder endpoints, string prefix = "/api/v1")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        prefix = "/" + prefix.Trim('/');
        var api = endpoints.MapGroup(prefix);
        api.AddEndpointFilter<ApiAccessFilter>();
        api.AddEndpointFilter<ApiErrorFilter>();
        JobEndpoints.Map(api);
        QueueEndpoints.Map(api);
        AdminEndpoints.Map(api);
        FlowEndpoints.Map(api);
        RecurringEndpoints.Map(api);
        QueueLimitEndpoints.Map(api);
        QueuePolicyEndpoints.Map(api);
        var source = endpoints.ServiceProvider.GetRequiredService<EndpointDataSource>();
        api.MapGet("/openapi.json", () => Results.Json(OpenApiDocument.Build(source, prefix))).WithSummary("This document.");
        api.Map("/{**path}", (HttpContext http) => ApiProblems.Create(http, StatusCodes.Status404NotFound, "Not found",
            $"{http.Request.Method} {http.Request.Path} is not part of the API; {prefix}/openapi.json lists every route."));
        return api;
    }

    /// <summary>
    /// Maps <c>/health</c> and <c>/health/ready</c> (store answers, storage circuit closed, not draining, a worker in the
    /// process not paused at its memory limit), <c>/health/live</c> and <c>/health/detailed</c>: with
    /// <paramref name="detailed"/> (the default) the server's view, with read access as the API (needs
    /// <c>AddBulwarkServer</c>); without it, a worker's probe port, where <c>/health/detailed</c> tells only this
    /// process's worker state and needs no key.
    /// </summary>
    public static IEndpointRouteBuilder MapBulwarkHealth(this IEndpointRouteBuilder endpoints, string prefix = "/health", bool detailed = true)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        HealthEndpoints.Map(endpoints, "/" + prefix.Trim('/'), workerProbe: !detailed);
        return endpoints;
    }

    /// <summary>
    /// Maps the Prometheus scrape endpoint (every <c>bulwark_*</c> metric) at <paramref name="path"/>. Needs a Prometheus
    /// exporter on the app's meter provider: <c>AddOpenTelemetry().WithMetrics(m =&gt; m.AddBulwarkInstrumentation().AddPrometheusExporter())</c>,
    /// or <c>AddBulwarkTelemetry()</c> in a host that owns its whole telemetry pipeline.
    /// </summary>
    public static IEndpointRouteBuilder MapBulwarkMetrics(this IEndpointRouteBuilder endpoints, string path = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPrometheusScrapingEndpoint(path);
        return endpoints;
    }
}
