using Bulwark.Server.Auth;
using Bulwark.Server.Dashboard;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

// In the Bulwark.Server namespace (not the folder's) so that MapBulwarkDashboard sits beside MapBulwarkApi for callers.
namespace Bulwark.Server;

/// <summary><c>services.AddBulwarkDashboard()</c> and <c>app.MapBulwarkDashboard("/dashboard")</c>.</summary>
public static class BulwarkDashboardExtensions
{
    /// <summary>
    /// Adds what the dashboard needs: ASP.NET Core antiforgery (which brings data protection, used to seal the sign-in
    /// cookie), the queue-count cache and the throughput sampler. Call <c>AddBulwark</c> and <c>AddBulwarkServer</c> too.
    /// </summary>
    public static IServiceCollection AddBulwarkDashboard(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = DashboardAuth.AntiforgeryCookie;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.FormFieldName = DashboardAuth.AntiforgeryField;
        });
        services.TryAddSingleton<DashboardAuth>();
        services.TryAddSingleton<ThroughputHistory>();
        services.TryAddSingleton<ReclaimHistory>();
        services.TryAddSingleton<QueueSnapshots>();
        services.AddHostedService<ThroughputSampler>();
        return services;
    }

    /// <summary>
    /// Maps the dashboard (overview, jobs, dead letters, workers, controls) under <paramref name="prefix"/>. Access uses the
    /// server's API keys through a sign-in form (an HttpOnly, SameSite=Strict cookie); a read key sees everything and changes
    /// nothing; with no keys configured it is open to loopback callers only. Every form carries an antiforgery token that is
    /// checked by the dashboard itself, so the host need not call <c>UseAntiforgery</c> (calling it does no harm).
    /// Needs <c>AddBulwark</c>, <c>AddBulwarkServer</c> and <c>AddBulwarkDashboard</c>.
    /// </summary>
    public static RouteGroupBuilder MapBulwarkDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/dashboard")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var services = endpoints.ServiceProvider;
        if (services.GetService<ApiKeySet>() is null)
        {
            throw new InvalidOperationException("MapBulwarkDashboard needs the server's services: call builder.Services.AddBulwarkServer() (and AddBulwarkDashboard()) before building the app.");
        }

        if (services.GetService<DashboardAuth>() is null)
        {
            throw new InvalidOperationException("MapBulwarkDashboard needs its services: call builder.Services.AddBulwarkDashboard() before building the app.");
        }

        prefix = "/" + prefix.Trim('/');
        if (prefix == "/")
        {
            throw new ArgumentException("Mount the dashboard under a path such as /dashboard, not at the site root.", nameof(prefix));
        }

        return DashboardEndpoints.Map(endpoints, prefix);
    }
}
