using Bulwark.Server.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bulwark.Server;

/// <summary><c>services.AddHealthChecks().AddBulwark()</c>, then <c>app.MapHealthChecks("/healthz")</c>.</summary>
public static class BulwarkHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of Bulwark: unhealthy when the job store does not answer or the storage circuit is open, degraded
    /// when this process's worker is not leasing. Needs <c>AddBulwark</c>.
    /// </summary>
    public static IHealthChecksBuilder AddBulwark(this IHealthChecksBuilder builder, string name = "bulwark", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new BulwarkHealthCheck(sp), failureStatus, tags ?? ["bulwark", "ready"]));
    }
}
