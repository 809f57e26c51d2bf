using Bulwark.Hosting;
using Bulwark.Postgres;
using Bulwark.Server;
using Bulwark.Sqlite;
using Bulwark.Workers;

// A worker service: no API, no dashboard; your handlers, a worker, maintenance, and probes for the orchestrator.
var builder = WebApplication.CreateBuilder(args);
// ConnectionStrings__Jobs: postgres://… for a fleet (the Kubernetes example), or a SQLite file for one machine.
var store = builder.Configuration.GetConnectionString("Jobs") ?? "jobs.db";
builder.Services.AddBulwark(builder.Configuration, b =>
{
    if (PostgresJobStore.IsPostgresStore(store))
    {
        b.UsePostgres(store);
    }
    else
    {
        b.UseSqlite(store);
    }

    b.AddHandler<SendOrderEmail>();
    b.AddWorker(builder.Configuration); // Bulwark:Worker (queues, concurrency, shutdown timeout), checked at start-up
});

var app = builder.Build();
app.MapBulwarkHealth("/health", detailed: false); // /health/live and /health/ready for systemd or Kubernetes probes
await app.RunAsync();

/// <summary>The payload of order.email jobs.</summary>
public sealed record OrderEmail(int OrderId, string To);

/// <summary>Sends an order's confirmation (here: logs it).</summary>
[JobType("order.email", Queue = "email")]
public sealed class SendOrderEmail(ILogger<SendOrderEmail> logger) : IJobHandler<OrderEmail>
{
    /// <summary>One attempt.</summary>
    public Task<object?> HandleAsync(OrderEmail payload, JobContext context)
    {
        logger.LogInformation("Order {OrderId}: confirmation to {To}", payload.OrderId, payload.To);
        return Task.FromResult<object?>(null);
    }
}
