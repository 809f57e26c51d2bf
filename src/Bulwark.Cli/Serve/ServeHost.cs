using Bulwark.Cli.Commands;
using Bulwark.Hosting;
using Bulwark.Server;
using Bulwark.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Cli.Serve;

/// <summary>Builds the ASP.NET Core app of <c>bulwark serve</c>: API, health, metrics, maintenance and in-process demo workers on a SQLite or PostgreSQL store.</summary>
internal static class ServeHost
{
    public static WebApplication Build(ServeSettings settings)
    {
        // No args: configuration comes from appsettings.json and Bulwark__* environment variables; flags are ours.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = CliHostArgs.Value, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.WebHost.UseUrls([.. settings.Urls]);

        // Refuse before anything is opened: without API keys the API must not be reachable from the network.
        BulwarkServerOptions options;
        try
        {
            options = BulwarkServerServiceCollectionExtensions.ReadOptions(builder.Configuration);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Jobs.JobValidationException)
        {
            // A setting the operator typed, not a fault: usage exit with the one line that names it.
            throw new CliException(ExitCodes.Usage, ex.Message);
        }
        if (!options.IsProtected && settings.Urls.FirstOrDefault(u => !ListenAddress.IsLoopback(u)) is { } open)
        {
            throw new CliException(ExitCodes.Usage, $"refusing to listen on {open}: no API keys configured, so the API would be open to the network. "
                + "Set Bulwark__Server__AdminKeys__0 (and ReadKeys) or listen on loopback (--urls http://127.0.0.1:5080).");
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);

        // One configuration for every host: Bulwark:* from appsettings.json, then Bulwark__* environment variables, then
        // the flags given (docs/configuration.md).
        var configuration = builder.Configuration;
        builder.Services.AddBulwark(configuration, b =>
        {
            StoreSelection.Use(b, settings.StorePath).UseStorageCircuit(configuration);
            if (settings.Workers != 0)
            {
                // The default worker name (host-pid) is unique per process: two servers on one host must not recover each other's
                // jobs. A --name kept across restarts lets the next start reclaim this one's jobs at once, as 'bulwark worker' does.
                b.AddDemoHandlers().AddWorker(configuration, w =>
                {
                    if (settings.Queues is { } queues)
                    {
                        w.Queues([.. queues]);
                    }

                    // serve's own default is 4 demo slots, unless configuration sets the concurrency.
                    w.Concurrency(settings.Workers ?? (configuration["Bulwark:Worker:Concurrency"] is null ? 4 : w.Options.Concurrency));
                    if (settings.Name is { } name)
                    {
                        w.Name(name);
                    }

                    Worker.WorkerHost.ThrowIfUnusable(w.Options);
                });
            }
            else
            {
                b.AddMaintenance(configuration);
            }
        });
        builder.Services.AddBulwarkServer();
        builder.Services.AddBulwarkTelemetry();
        builder.Services.AddBulwarkDashboard();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGet("/", (HttpContext http) => Results.Json(new
        {
            name = "Bulwark",
            api = "/api/v1",
            openapi = "/api/v1/openapi.json",
            queues = "/api/v1/queues",
            health = new[] { "/health/live", "/health/ready", "/health/detailed" },
            metrics = "/metrics",
            dashboard = "/dashboard/",
            docs = "docs/api.md",
        }));
        app.MapBulwarkApi("/api/v1");
        app.MapBulwarkHealth();
        app.MapBulwarkMetrics();
        app.MapBulwarkDashboard("/dashboard");
        return app;
    }
}
