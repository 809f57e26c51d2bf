using System.Diagnostics;
using System.Net;
using System.Text;
using Bulwark.Diagnostics;
using Bulwark.Hosting;
using Bulwark.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Bulwark.Server.Tests;

/// <summary>
/// Bulwark adds its meter and activity source to the app's OpenTelemetry pipeline and no exporter, so an app that owns its
/// exporters (.NET Aspire's service defaults call <c>UseOtlpExporter()</c>) starts with Bulwark in it.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class InstrumentationTests
{
    [Fact]
    public async Task An_app_calling_UseOtlpExporter_with_the_endpoint_variable_set_starts_with_bulwark_in_it()
    {
        // The variable is process-wide (this collection runs alone); OpenTelemetry refuses AddOtlpExporter beside
        // UseOtlpExporter, which is what AddBulwarkServer did when it saw this variable.
        var before = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
        try
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders();
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
            builder.Services.AddBulwark(b => b.UseInMemory().AddDemoHandlers().AddWorker(w => w.Queues("otlp")));
            builder.Services.AddBulwarkServer();
            builder.Services.AddBulwarkDashboard();
            await using var app = builder.Build();
            app.MapBulwarkApi();
            app.MapBulwarkDashboard();

            await app.StartAsync();
            using var response = await app.GetTestClient().PostAsync("/api/v1/jobs", new StringContent("""{"queue":"otlp","type":"demo.noop"}""", Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.NotNull(app.Services.GetService<MeterProvider>());
            Assert.NotNull(app.Services.GetService<TracerProvider>());
            await app.StopAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", before);
        }
    }

    [Fact]
    public async Task Bulwark_metrics_and_spans_reach_the_exporters_the_app_configured()
    {
        var metrics = new List<Metric>();
        var spans = new List<Activity>();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddInMemoryExporter(metrics))
            .WithTracing(t => t.AddInMemoryExporter(spans));
        builder.Services.AddBulwark(b => b.UseInMemory().AddDemoHandlers().AddWorker(w => w.Queues("exported")));
        builder.Services.AddBulwarkServer();
        await using var app = builder.Build();
        app.MapBulwarkApi();
        await app.StartAsync();

        using var response = await app.GetTestClient().PostAsync("/api/v1/jobs", new StringContent("""{"queue":"exported","type":"demo.noop"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var provider = app.Services.GetRequiredService<MeterProvider>();
        while (DateTime.UtcNow < deadline)
        {
            provider.ForceFlush();
            lock (spans)
            {
                if (metrics.Any(m => m.Name == "bulwark.jobs.completed") && spans.Any(s => s.Source.Name == Telemetry.ActivitySourceName))
                {
                    break;
                }
            }

            await Task.Delay(50);
        }

        Assert.Contains(metrics, m => m.Name == "bulwark.jobs.enqueued");
        Assert.Contains(metrics, m => m.Name == "bulwark.jobs.completed");
        lock (spans)
        {
            Assert.Contains(spans, s => s.Source.Name == Telemetry.ActivitySourceName);
        }

        await app.StopAsync();
    }
}
