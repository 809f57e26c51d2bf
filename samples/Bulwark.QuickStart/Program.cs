using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Server;
using Bulwark.Sqlite;
using Bulwark.Workers;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddBulwark(builder.Configuration, b => b
    .UseSqlite("jobs.db")                            // or .UsePostgres("postgres://app@db:5432/app") with Bulwark.Postgres
    .AddHandler<SendWelcome>()                       // job type and queue come from its [JobType]
    .AddWorker(w => w.Queues("email").Concurrency(4)));
builder.Services.AddBulwarkServer();                 // API access by key or policy, backpressure, meter + activity source
builder.Services.AddBulwarkDashboard();

var app = builder.Build();
app.MapBulwarkApi("/api/v1");
app.MapBulwarkDashboard("/dashboard");
app.MapBulwarkHealth();
app.MapPost("/signup", async (string email, IJobClient jobs, CancellationToken ct) =>
    Results.Accepted(value: new { jobId = await jobs.EnqueueAsync(new Welcome(email), o => o.Key($"welcome:{email}"), ct) }));
await app.RunAsync();

/// <summary>The job's payload, stored as JSON.</summary>
public sealed record Welcome(string Email);

/// <summary>Runs welcome.send jobs, resolved from a fresh DI scope for each job.</summary>
[JobType("welcome.send", Queue = "email")]
public sealed class SendWelcome(ILogger<SendWelcome> logger) : IJobHandler<Welcome>
{
    /// <summary>One attempt; throw to retry with backoff, or PermanentJobException to fail at once.</summary>
    public async Task<object?> HandleAsync(Welcome payload, JobContext context)
    {
        logger.LogInformation("Welcome mail to {Email} (attempt {Attempt})", payload.Email, context.Attempt);
        await context.ReportProgressAsync(100);
        return new { sent = payload.Email };
    }
}
