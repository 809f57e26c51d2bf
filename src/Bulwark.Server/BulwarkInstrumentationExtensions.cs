using Bulwark.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Bulwark.Server;

/// <summary>
/// <c>metrics.AddBulwarkInstrumentation()</c> and <c>tracing.AddBulwarkInstrumentation()</c>: Bulwark's meter and activity
/// source for an OpenTelemetry pipeline the application owns. They add no exporter; the application chooses those
/// (<c>UseOtlpExporter()</c>, <c>AddPrometheusExporter()</c>, …).
/// </summary>
public static class BulwarkInstrumentationExtensions
{
    /// <summary>Listens to the <c>Bulwark</c> meter (every <c>bulwark_*</c> metric). Histograms carry their own bucket advice in seconds.</summary>
    public static MeterProviderBuilder AddBulwarkInstrumentation(this MeterProviderBuilder metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.AddMeter(Telemetry.MeterName);
    }

    /// <summary>Listens to the <c>Bulwark</c> activity source (enqueue and job spans).</summary>
    public static TracerProviderBuilder AddBulwarkInstrumentation(this TracerProviderBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return tracing.AddSource(Telemetry.ActivitySourceName);
    }
}
