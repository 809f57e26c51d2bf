using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Bulwark.Jobs;
using Bulwark.Sqlite;

namespace Bulwark.Cli.Tests;

/// <summary>
/// One real <c>bulwark serve --workers 0</c> over one store file, shared by the cases. Its maintenance is slowed to an hour
/// so that only the action under test reclaims a stalled job.
/// </summary>
public sealed class AdminFrontEndFixture : IAsyncLifetime
{
    public CliRunner Cli { get; } = new();

    internal ServeForCli Serve { get; private set; } = null!;

    public async Task InitializeAsync() => Serve = await ServeForCli.StartAsync(Cli, new Dictionary<string, string>
    {
        ["Bulwark__Maintenance__Interval"] = "1h",
        ["Bulwark__Maintenance__WorkerDeadAfter"] = "2h",
    });

    public async Task DisposeAsync()
    {
        await Serve.DisposeAsync();
        Cli.Dispose();
    }
}

/// <summary>
/// Each operator action gives the same result whichever front end runs it: the HTTP API, the dashboard's controls, the CLI
/// on the store file and the CLI through the server (<c>--url</c>). All of them run the server's <c>AdminActions</c>.
/// </summary>
public sealed class AdminFrontEndTests(AdminFrontEndFixture fixture) : IClassFixture<AdminFrontEndFixture>
{
    private static readonly string[] FrontEnds = ["api", "dashboard", "cli", "cli-url"];

    private CliRunner Cli => fixture.Cli;

    private string Url => fixture.Serve.Url;

    [Theory]
    [InlineData("retry", "jobs=[ready/0]")]
    [InlineData("retry-all", "jobs=[ready/0,ready/0]")]
    [InlineData("cancel", "jobs=[cancelled/0]")]
    [InlineData("pause", "jobs=[ready/0] paused")]
    [InlineData("resume", "jobs=[ready/0]")]
    [InlineData("purge", "jobs=[]")]
    [InlineData("reclaim-stalled", "jobs=[ready/1]")]
    [InlineData("circuit-open", "jobs=[] breaker=open")]
    [InlineData("circuit-close", "jobs=[]")]
    [InlineData("limits", "jobs=[] limits=5/2")]
    [InlineData("policy", "jobs=[] policy=2/30s")]
    public async Task An_admin_action_gives_the_same_result_from_the_api_the_dashboard_and_the_cli(string action, string expected)
    {
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var frontEnd in FrontEnds)
        {
            var target = new Target($"{action}.{frontEnd}", $"t.{action}.{frontEnd}");
            var ids = await SeedAsync(action, target);
            await RunAsync(frontEnd, action, target, ids);
            results[frontEnd] = await DescribeAsync(target);
        }

        Assert.All(results, r => Assert.True(r.Value == expected, $"{action} from {r.Key}: {r.Value}, expected {expected}"));
    }

    private sealed record Target(string Queue, string Type);

    private async Task<long[]> SeedAsync(string action, Target target)
    {
        var count = action is "retry-all" or "purge" ? 2 : action is "retry" or "cancel" or "pause" or "resume" or "reclaim-stalled" ? 1 : 0;
        long[] ids;
        await using (var store = await Open())
        {
            var jobs = Enumerable.Range(0, count).Select(_ => JobValidator.Validate(new NewJob { Queue = target.Queue, Type = "demo.noop", Payload = "{}" })).ToArray();
            ids = count == 0 ? [] : [.. (await store.EnqueueAsync(jobs)).Select(r => r.Id)];
            if (action == "resume") { await store.SetQueuePausedAsync(target.Queue, true); }
            if (action == "circuit-close") { await store.OpenCircuitAsync(target.Type); }
        }

        if (action is "retry" or "retry-all" or "purge") { await StoreSeeder.DeadLetterAllAsync(Cli.StorePath, target.Queue); }
        if (action == "reclaim-stalled") { await StoreSeeder.LeaseExpiredAsync(Cli.StorePath, target.Queue); }
        return ids;
    }

    private async Task RunAsync(string frontEnd, string action, Target t, long[] ids)
    {
        var id = ids.FirstOrDefault().ToString(CultureInfo.InvariantCulture);
        switch (frontEnd)
        {
            case "api":
                var (method, path, body) = action switch
                {
                    "retry" => (HttpMethod.Post, $"jobs/{id}/retry", null),
                    "retry-all" => (HttpMethod.Post, $"queues/{t.Queue}/dead-letter/retry", null),
                    "cancel" => (HttpMethod.Post, $"jobs/{id}/cancel", null),
                    "pause" or "resume" => (HttpMethod.Post, $"queues/{t.Queue}/{action}", null),
                    "purge" => (HttpMethod.Delete, $"queues/{t.Queue}/jobs?state=dead_letter", null),
                    "reclaim-stalled" => (HttpMethod.Post, "maintenance/reclaim-stalled", null),
                    "circuit-open" => (HttpMethod.Post, $"circuit-breakers/{t.Type}/open", null),
                    "circuit-close" => (HttpMethod.Post, $"circuit-breakers/{t.Type}/close", null),
                    "limits" => (HttpMethod.Put, $"queues/{t.Queue}/limits", """{"rate_limit":5,"concurrency_limit":2}"""),
                    "policy" => (HttpMethod.Put, $"queues/{t.Queue}/policy", """{"max_attempts":2,"timeout":"30s"}"""),
                    _ => throw new ArgumentOutOfRangeException(nameof(action)),
                };
                using (var http = new HttpClient())
                using (var request = new HttpRequestMessage(method, $"{Url}/api/v1/{path}") { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") })
                using (var response = await http.SendAsync(request))
                {
                    Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }

                break;
            case "dashboard":
                var (form, fields) = action switch
                {
                    "retry" => ($"jobs/{id}/retry", Confirmed()),
                    "retry-all" => ($"dead-letters/{t.Queue}/retry", Confirmed()),
                    "cancel" => ($"jobs/{id}/cancel", Confirmed()),
                    "pause" or "resume" => ($"queues/{t.Queue}/{action}", Confirmed()),
                    "purge" => ($"dead-letters/{t.Queue}/purge", Confirmed()),
                    "reclaim-stalled" => ("reclaim", Confirmed()),
                    "circuit-open" => ("circuits/open", Confirmed(("type", t.Type))),
                    "circuit-close" => ("circuits/close", Confirmed(("type", t.Type))),
                    "limits" => ("queues/limits", Confirmed(("queue", t.Queue), ("rate_limit", "5"), ("concurrency_limit", "2"))),
                    "policy" => ("queues/policy", Confirmed(("queue", t.Queue), ("max_attempts", "2"), ("timeout", "30s"))),
                    _ => throw new ArgumentOutOfRangeException(nameof(action)),
                };
                await PostDashboardAsync(form, fields);
                break;
            default:
                string[] args = action switch
                {
                    "retry" => ["jobs", "retry", id],
                    "retry-all" => ["dlq", "retry-all", t.Queue],
                    "cancel" => ["jobs", "cancel", id],
                    "pause" or "resume" => [action, t.Queue],
                    "purge" => ["clean", "--queue", t.Queue, "--state", "dead_letter", "--older-than", "0s"],
                    "reclaim-stalled" => ["reclaim-stalled"],
                    "circuit-open" => ["circuit", "open", t.Type],
                    "circuit-close" => ["circuit", "close", t.Type],
                    "limits" => ["queues", "limit", t.Queue, "--rate", "5", "--concurrency", "2"],
                    "policy" => ["queues", "policy", t.Queue, "--max-attempts", "2", "--timeout", "30s"],
                    _ => throw new ArgumentOutOfRangeException(nameof(action)),
                };
                var result = frontEnd == "cli" ? await Cli.RunAsync(args) : await Cli.RunRawAsync([.. args, "--url", Url]);
                Assert.True(result.ExitCode == 0, $"{frontEnd} {string.Join(' ', args)}: {result}");
                break;
        }
    }

    private static List<(string, string)> Confirmed(params (string, string)[] fields) => [("confirm", "yes"), .. fields];

    /// <summary>Posts a dashboard form as a browser would: with the antiforgery cookie and token of the controls page.</summary>
    private async Task PostDashboardAsync(string path, List<(string, string)> fields)
    {
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var http = new HttpClient(handler);
        var page = await http.GetStringAsync($"{Url}/dashboard/controls");
        var token = Regex.Match(page, "name=\"__bulwark_af\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        using var content = new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)), KeyValuePair.Create("__bulwark_af", WebUtility.HtmlDecode(token))]);
        using var response = await http.PostAsync($"{Url}/dashboard/{path}", content);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK && html.Contains("id=\"outcome\"", StringComparison.Ordinal), $"dashboard {path}: {(int)response.StatusCode} {html}");
    }

    private async Task<string> DescribeAsync(Target t)
    {
        await using var store = await Open();
        var jobs = (await store.ListJobsAsync(new Storage.JobListQuery(t.Queue))).Items.OrderBy(j => j.Id).Select(j => $"{j.State.ToName()}/{j.Attempt}");
        var text = new StringBuilder($"jobs=[{string.Join(',', jobs)}]");
        if ((await store.GetQueuesAsync()).FirstOrDefault(q => q.Queue == t.Queue) is { Paused: true }) { text.Append(" paused"); }
        if ((await store.GetQueueLimitsAsync()).GetValueOrDefault(t.Queue) is { } limits) { text.Append(CultureInfo.InvariantCulture, $" limits={limits.RatePerSecond}/{limits.MaxRunning}"); }
        if ((await store.GetQueuePoliciesAsync()).GetValueOrDefault(t.Queue) is { } policy) { text.Append(CultureInfo.InvariantCulture, $" policy={policy.MaxAttempts}/{(policy.Timeout is { } timeout ? DurationText.Format(timeout) : "-")}"); }
        if ((await store.ListCircuitsAsync()).FirstOrDefault(b => b.Type == t.Type) is { } breaker) { text.Append(" breaker=").Append(breaker.State.ToString().ToLowerInvariant()); }
        return text.ToString();
    }

    private Task<SqliteJobStore> Open() => SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Cli.StorePath });
}
