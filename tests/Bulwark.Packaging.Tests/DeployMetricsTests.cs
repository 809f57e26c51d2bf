using System.Text.Json;
using System.Text.RegularExpressions;
using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Server;
using Bulwark.Sqlite;
using Bulwark.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Packaging.Tests;

public sealed partial class DeployMetricsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bulwark-deploy-" + Guid.NewGuid().ToString("N")[..8]);

    public DeployMetricsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_dashboard_is_valid_json_and_every_panel_has_a_query()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("deploy", "grafana", "bulwark-dashboard.json")));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToArray();
        Assert.NotEmpty(panels);
        foreach (var panel in panels)
        {
            var exprs = panel.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()).ToArray();
            Assert.True(exprs.Length > 0 && exprs.All(e => !string.IsNullOrWhiteSpace(e)), $"Panel '{panel.GetProperty("title")}' has no query.");
        }
    }

    [Fact]
    public async Task Every_metric_named_by_the_dashboard_and_the_alert_rules_appears_in_a_live_scrape()
    {
        var wanted = UsedMetricNames();
        Assert.Contains("bulwark_jobs_completed_total", wanted); // the extraction itself works

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _dir, EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["Bulwark:Server:DepthSampleInterval"] = "200ms";
        builder.Services.AddBulwark(b => b
            .UseSqlite(Path.Combine(_dir, "jobs.db"))
            .UseStorageCircuit()
            .AddDemoHandlers()
            .AddWorker(w => w.Queues("deploy").Poll(TimeSpan.FromMilliseconds(50))));
        builder.Services.AddBulwarkServer();
        builder.Services.AddBulwarkTelemetry();
        await using var app = builder.Build();
        app.MapBulwarkApi();
        app.MapBulwarkMetrics();
        await app.StartAsync();
        var url = app.Urls.First();

        var client = app.Services.GetRequiredService<JobClient>();
        var quick = BackoffPolicy.Fixed(TimeSpan.FromMilliseconds(50));
        await client.EnqueueManyAsync(
        [
            new NewJob { Queue = "deploy", Type = "demo.noop", Payload = "{}" },
            new NewJob { Queue = "deploy", Type = "demo.noop", Payload = "{}" },
            // Fails once, is retried, then completes: failed, retried and completed counters.
            new NewJob { Queue = "deploy", Type = "demo.fail", Payload = """{"times":1}""", MaxAttempts = 3, Backoff = quick },
            // Fails its only attempt: dead letter.
            new NewJob { Queue = "deploy", Type = "demo.fail", Payload = """{"times":5}""", MaxAttempts = 1, Backoff = quick },
        ]);

        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        HashSet<string> exported;
        while (true)
        {
            exported = ExportedNames(await http.GetStringAsync($"{url}/metrics"));
            if (wanted.All(w => exported.Contains(w)) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(100);
        }

        await app.StopAsync();
        var missing = wanted.Where(w => !exported.Contains(w)).Order(StringComparer.Ordinal).ToArray();
        Assert.True(missing.Length == 0,
            $"deploy/ names metrics that a live scrape never showed: {string.Join(", ", missing)}. Exported: {string.Join(", ", exported.Order(StringComparer.Ordinal))}");
    }

    private static HashSet<string> UsedMetricNames()
    {
        var texts = new List<string>();
        using (var dashboard = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("deploy", "grafana", "bulwark-dashboard.json"))))
        {
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                texts.AddRange(panel.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString() ?? ""));
            }

            texts.AddRange(dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
                .Where(v => v.TryGetProperty("definition", out _)).Select(v => v.GetProperty("definition").GetString() ?? ""));
        }

        texts.AddRange(File.ReadAllLines(Repository.PathOf("deploy", "prometheus", "bulwark-alerts.yml"))
            .Where(l => !l.TrimStart().StartsWith('#') && !l.Contains("description:", StringComparison.Ordinal) && !l.Contains("summary:", StringComparison.Ordinal)));
        var names = texts.SelectMany(t => MetricName().Matches(t).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        return names;
    }

    private static HashSet<string> ExportedNames(string scrape)
    {
        // Sample lines only (not # HELP / # TYPE), so a name counts only when it has a value. The rules' `up` is recorded by
        // Prometheus itself and is not matched by the bulwark_ pattern.
        return scrape.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l[..l.IndexOfAny(['{', ' '])])
            .ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"\bbulwark_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
