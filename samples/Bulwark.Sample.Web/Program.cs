using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Postgres;
using Bulwark.Sample.Web;
using Bulwark.Server;
using Bulwark.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using OpenTelemetry.Metrics;

var builder = WebApplication.CreateBuilder(args);
// `--store orders.db` or `--store postgres://user:pass@host/db` (or Bulwark:Store in appsettings.json, Bulwark__Store in the environment).
builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--store"] = "Bulwark:Store", ["--schema"] = "Bulwark:Postgres:Schema" });
var store = SampleStore.From(builder.Configuration);
builder.Services.AddSingleton(store);

builder.Services.AddBulwark(builder.Configuration, bulwark =>
{
    if (store.IsPostgres)
    {
        bulwark.UsePostgres(store.Location, o => o with { Schema = store.Schema });
    }
    else
    {
        bulwark.UseSqlite(store.Location);
    }

    bulwark.AddHandler<EmailSender, EmailMessage>("email.send");
    bulwark.AddWorker(builder.Configuration); // Bulwark:Worker and Bulwark:Maintenance, checked at start-up
});
builder.Services.AddHealthChecks().AddBulwark();
// bulwark_* metrics at /metrics: Bulwark's meter on the app's own OpenTelemetry pipeline, with the exporter the app chooses.
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddBulwarkInstrumentation().AddPrometheusExporter());
if (store.IsPostgres)
{
    builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(store.NpgsqlConnectionString()));
    builder.Services.AddDbContext<OrdersContext>(o => o.UseNpgsql(store.NpgsqlConnectionString()));
    builder.Services.AddScoped<OrderPlacement>();
}

var app = builder.Build();
if (store.IsPostgres)
{
    await OrderPlacement.EnsureTableAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), store, app.Lifetime.ApplicationStopping);
}

app.MapPost("/orders", async (OrderRequest? order, IServiceProvider services, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(order?.Email) || string.IsNullOrWhiteSpace(order.Item))
    {
        return Results.Problem("Send JSON like {\"email\":\"ada@example.com\",\"item\":\"book\"}: both email and item are required.", statusCode: StatusCodes.Status400BadRequest);
    }

    if (store.IsPostgres)
    {
        var (orderId, jobId) = await services.GetRequiredService<OrderPlacement>().PlaceAsync(order.Email, order.Item, cancellationToken);
        return Results.Accepted($"/jobs/{jobId}", new { orderId, jobId });
    }

    // On SQLite the job store is Bulwark's own file, so the client enqueues on its own (durable when this returns).
    var client = services.GetRequiredService<JobClient>();
    var id = await client.EnqueueAsync("email", "email.send", new EmailMessage(order.Email, $"Order: {order.Item}", null), cancellationToken: cancellationToken);
    return Results.Accepted($"/jobs/{id}", new { jobId = id });
});

app.MapGet("/jobs/{id:long}", async (long id, JobClient client, CancellationToken cancellationToken) =>
    await client.GetAsync(id, cancellationToken) is { } job
        ? Results.Ok(new { id = job.Id, state = job.State.ToName(), attempt = job.Attempt, result = job.Result })
        : Results.NotFound());

app.MapHealthChecks("/healthz");
app.MapBulwarkMetrics();

await app.RunAsync();
