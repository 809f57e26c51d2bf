// Seeds a SQLite store with N jobs (default 1,000,000) spread over four queues, with completed, dead-lettered and keyed
// jobs among them, then times every dashboard page over real HTTP. Writes artifacts/bench/dashboard-pages.md.
// Usage: dotnet run -c Release --project tests/Bulwark.Dashboard.Tests/Bench -- [jobs] [store.db]
// An existing store file with enough jobs is reused (seeding a million takes a while).
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Server;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

const string AdminKey = "bench-admin-key-0123456789";
var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var path = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"bulwark-dashboard-bench-{total}.db");
string[] queues = ["email", "reports", "webhooks", "default"];

var builder = WebApplication.CreateBuilder();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bulwark:Server:AdminKeys:0"] = AdminKey });
builder.Services.AddBulwark(b => b.UseSqlite(path));
builder.Services.AddBulwarkServer();
builder.Services.AddBulwarkDashboard();
var app = builder.Build();
app.MapBulwarkDashboard("/dashboard");
await app.StartAsync();

var store = app.Services.GetRequiredService<IJobStore>();
var query = app.Services.GetRequiredService<IJobQuery>();
var stored = (await query.GetQueuesAsync()).Sum(q => q.Counts.Values.Sum());
if (stored < total)
{
    Console.WriteLine($"Seeding {total - stored:N0} jobs into {path} ...");
    var seed = Stopwatch.StartNew();
    for (var i = (int)stored; i < total; i += 10_000)
    {
        var batch = Enumerable.Range(i, Math.Min(10_000, total - i)).Select(n => new NewJob
        {
            Queue = queues[n % queues.Length],
            Type = "demo.noop",
            Payload = $$"""{"n":{{n}}}""",
            MaxAttempts = 1,
            Key = n % 10 == 0 ? $"order-{n}" : null,
        }).ToArray();
        await store.EnqueueAsync(batch);
    }

    // Run a slice through a worker's lifecycle so the overview and dead-letter pages have completed and failed jobs.
    await store.RegisterWorkerAsync(new WorkerRegistration { Id = "bench-1", Name = "bench", Host = Environment.MachineName, ProcessId = Environment.ProcessId, Queues = queues, Concurrency = 500, StartedAt = DateTimeOffset.UtcNow });
    for (var round = 0; round < Math.Max(1, total / 10_000); round++)
    {
        var leased = await store.LeaseAsync(new LeaseRequest("bench-1", queues, 500, TimeSpan.FromMinutes(5)));
        var now = DateTimeOffset.UtcNow;
        await store.FinishAsync(leased.Select((job, k) => k % 20 == 0
            ? JobOutcome.DeadLetter(job.Token, new JobError(job.Attempt, "bench-1", now, now, FailureCategory.Temporary, "bench: downstream refused", "   at Bench.Run()"), "Attempts exhausted (1 of 1)")
            : JobOutcome.Complete(job.Token, """{"ok":true}""")).ToArray());
    }

    Console.WriteLine($"Seeded in {seed.Elapsed.TotalSeconds:F0} s.");
}

stored = (await query.GetQueuesAsync()).Sum(q => q.Counts.Values.Sum());
var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
http.DefaultRequestHeaders.Add("X-API-Key", AdminKey);
var deadLetter = (await query.ListJobsAsync(new JobListQuery("webhooks", JobState.DeadLetter, null, 1))).Items.FirstOrDefault()?.Id ?? 1;
var pages = new (string Name, string Path)[]
{
    ("Overview", "/dashboard/"),
    ("Overview live data (JSON)", "/dashboard/overview.json"),
    ("Jobs, all queues, first page", "/dashboard/jobs"),
    ("Jobs, one queue and state", "/dashboard/jobs?queue=reports&state=ready"),
    ("Jobs, a deep page (keyset)", $"/dashboard/jobs?queue=default&before={total / 2}"),
    ("Job detail", $"/dashboard/jobs/{deadLetter}"),
    ("Find by key", $"/dashboard/jobs/find?q=order-{total / 2}"),
    ("Dead letters", "/dashboard/dead-letters"),
    ("Workers", "/dashboard/workers"),
    ("Controls", "/dashboard/controls"),
};

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"# Dashboard page load, {stored:N0} jobs in SQLite")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}Z, {Environment.ProcessorCount} cores, time to the last byte over loopback HTTP; 5 loads each (after one warm-up), 1.1 s apart, so each load finds the shared queue counts over a second old and starts a background recount, which competes with it.")
    .AppendLine()
    .AppendLine("| Page | Status | Median ms | Max ms |")
    .AppendLine("|---|---|---:|---:|");
foreach (var (name, pagePath) in pages)
{
    var times = new List<double>();
    var status = 0;
    for (var i = 0; i < 6; i++)
    {
        await Task.Delay(1100);
        var watch = Stopwatch.StartNew();
        using var response = await http.GetAsync(pagePath);
        await response.Content.ReadAsByteArrayAsync();
        watch.Stop();
        status = (int)response.StatusCode;
        if (i > 0)
        {
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
    }

    times.Sort();
    report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {status} | {times[times.Count / 2]:F1} | {times[^1]:F1} |");
}

var counts = new List<double>();
for (var i = 0; i < 5; i++)
{
    var watch = Stopwatch.StartNew();
    await query.GetQueuesAsync();
    counts.Add(watch.Elapsed.TotalMilliseconds);
}

counts.Sort();
report.AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"The per-queue count itself (`IJobQuery.GetQueuesAsync`, run in the background at most once a second while someone watches, and every 10 s by the sampler): median {counts[2]:F0} ms, max {counts[^1]:F0} ms.")
    .AppendLine(File.Exists("/proc/loadavg") ? $"Machine load average while measuring: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}." : "");
Console.WriteLine(report);
var output = Path.Combine(Directory.GetCurrentDirectory(), "artifacts", "bench");
Directory.CreateDirectory(output);
await File.WriteAllTextAsync(Path.Combine(output, "dashboard-pages.md"), report.ToString());
await app.StopAsync();
