using Bulwark.Server;
using Bulwark.Server.Health;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Cli.Serve;

/// <summary>
/// A worker process's own probe port (<c>bulwark worker --health-urls</c>): <c>/health</c> and <c>/health/ready</c>
/// (store answers, storage circuit closed, not draining, not paused at the memory limit), <c>/health/live</c>,
/// <c>/health/detailed</c> (this worker's own state) and <c>/metrics</c>, served by a small Kestrel app that shares the
/// worker host's store and meter. No API is served there, so it may listen beyond loopback without keys. Registered
/// before the worker, it stops after it: during a drain it answers 503 <c>draining</c> until the process exits.
/// </summary>
internal sealed class ProbeServer(IServiceProvider worker, IReadOnlyList<string> urls) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = CliHostArgs.Value });
        builder.WebHost.UseUrls([.. urls]);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(worker.GetRequiredService<IJobQuery>());
        builder.Services.AddSingleton(worker.GetRequiredService<TimeProvider>());
        if (worker.GetService<WorkerRuntime>() is { } runtime)
        {
            builder.Services.AddSingleton(runtime);
            builder.Services.AddSingleton(worker.GetRequiredService<WorkerOptions>());
        }

        if (worker.GetService<CircuitBreakingJobStore>() is { } guarded)
        {
            builder.Services.AddSingleton(guarded);
            builder.Services.AddSingleton(guarded.Circuit);
        }

        // Readiness fails as soon as the worker host begins to stop, while it drains.
        var state = new ServerState();
        worker.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(state.BeginDraining);
        builder.Services.AddSingleton(state);
        builder.Services.AddBulwarkTelemetry();

        _app = builder.Build();
        HealthEndpoints.Map(_app, "/health", workerProbe: true);
        _app.MapBulwarkMetrics();
        await _app.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
