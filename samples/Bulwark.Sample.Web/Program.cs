using Bulwark.Client;
using Bulwark.EntityFrameworkCore;
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
// The orders live beside the jobs (the PostgreSQL database, or the SQLite file), so an order and its job commit together;
// UseBulwark() wakes the workers at that commit.
if (store.IsPostgres)
{
    builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(store.NpgsqlConnectionString()));
    builder.Services.AddDbContext<OrdersContext>(o => o.UseNpgsql(store.NpgsqlConnectionString()).UseBulwark());
}
else
{
    builder.Services.AddDbContext<OrdersContext>(o => o.UseSqlite($"Data Source={store.Location}").UseBulwark());
}

builder.Services.AddScoped<OrderPlacement>();

var app = builder.Build();
await OrderPlacement.EnsureTableAsync(app.Services, store, app.Lifetime.ApplicationStopping);

app.MapPost("/orders", async (OrderRequest? order, IServiceProvider services, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(order?.Email) || string.IsNullOrWhiteSpace(order.Item))
    {
        return Results.Problem("Send JSON like {\"email\":\"ada@example.com\",\"item\":\"book\"}: both email and item are required.", statusCode: StatusCodes.Status400BadRequest);
    }

    var (orderId, jobId) = await services.GetRequiredService<OrderPlacement>().PlaceAsync(order.Email, order.Item, cancellationToken);
    return Results.Accepted($"/jobs/{jobId}", new { orderId, jobId });
});

app.MapGet("/jobs/{id:long}", async (long id, JobClient client, CancellationToken cancellationToken) =>
    await client.GetAsync(id, cancellationToken) is { } job
        ? Results.Ok(new { id = job.Id, state = job.State.ToName(), attempt = job.Attempt, result = job.Result })
        : Results.NotFound());

app.MapHealthChecks("/healthz");
app.MapBulwarkMetrics();

await app.RunAsync();
