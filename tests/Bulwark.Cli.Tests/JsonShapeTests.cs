using System.Text.Json.Nodes;

namespace Bulwark.Cli.Tests;

/// <summary>
/// <c>--json</c> prints what the HTTP API answers: the same names, shapes and values from <c>--store</c>, from
/// <c>--url</c> and from the API itself, so a script can switch between them.
/// </summary>
public sealed class JsonShapeTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Every_listing_is_the_same_json_from_the_store_from_a_server_and_from_the_api()
    {
        var id = (await _cli.RunAsync(
            "enqueue", "reports", "report.build", "--payload", """{"n":1,"tags":["a"]}""", "--priority", "3", "--delay", "1h",
            "--max-attempts", "4", "--timeout", "90s", "--backoff", "fixed(5s)", "--key", "r-1")).Lines.Single();
        Assert.Equal(0, (await _cli.RunAsync("enqueue", "payments", "payment.capture", "--count", "2", "--max-attempts", "1")).ExitCode);
        await StoreSeeder.DeadLetterAllAsync(_cli.StorePath, "payments");
        Assert.Equal(0, (await _cli.RunAsync("enqueue", "default", "demo.noop", "--count", "2")).ExitCode);
        await StoreSeeder.LeaseExpiredAsync(_cli.StorePath, "default");
        Assert.Equal(0, (await _cli.RunAsync("recurring", "set", "nightly", "--cron", "0 0 2 * * *", "--tz", "Europe/Paris", "--queue", "reports", "--type", "report.build", "--payload", """{"kind":"nightly"}""")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("queues", "limit", "reports", "--concurrency", "2")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("queues", "policy", "payments", "--max-attempts", "2", "--timeout", "45s")).ExitCode);
        var deadLetter = (await _cli.JsonAsync("dlq", "list", "payments")).GetProperty("items")[0].GetProperty("id").GetInt64();
        await using var serve = await ServeForCli.StartAsync(_cli);
        using var http = new HttpClient { BaseAddress = new Uri(serve.Url + "/api/v1/") };

        var pairs = new (string[] Cli, string Api)[]
        {
            (["jobs", "show", id], $"jobs/{id}"),
            (["jobs", "show", deadLetter.ToString(System.Globalization.CultureInfo.InvariantCulture)], $"jobs/{deadLetter}"),
            (["jobs", "list", "--limit", "3"], "jobs?limit=3"),
            (["dlq", "list", "payments"], "jobs?queue=payments&state=dead_letter&limit=50"),
            (["workers"], "workers"),
            (["stalled"], "stalled"),
            (["recurring", "list"], "recurring"),
            (["queues"], "queues"),
        };
        foreach (var (cli, api) in pairs)
        {
            var fromApi = ServerSettingsLeftOut(JsonNode.Parse(await http.GetStringAsync(api)));
            var fromStore = JsonNode.Parse((await _cli.JsonAsync(cli)).GetRawText());
            var overHttp = await _cli.RunRawAsync([.. cli, "--url", serve.Url, "--json"]);
            Assert.True(overHttp.ExitCode == 0, overHttp + serve.Output);
            var fromServer = ServerSettingsLeftOut(JsonNode.Parse(overHttp.Stdout));

            Assert.True(JsonNode.DeepEquals(fromApi, fromStore), $"bulwark {string.Join(' ', cli)} --store printed\n{fromStore}\nbut GET {api} answers\n{fromApi}");
            Assert.True(JsonNode.DeepEquals(fromApi, fromServer), $"bulwark {string.Join(' ', cli)} --url printed\n{fromServer}\nbut GET {api} answers\n{fromApi}");
        }

        // The values are the API's: payload as JSON, durations as text, names in snake_case.
        var job = await _cli.JsonAsync("jobs", "show", id);
        Assert.Equal(("1m30s", 1, 4), (job.GetProperty("timeout").GetString(), job.GetProperty("payload").GetProperty("n").GetInt32(), job.GetProperty("max_attempts").GetInt32()));
    }

    /// <summary>
    /// A queue's hard limit and warning depth are the server's settings, not the store's: the CLI on a store file
    /// cannot know them, so they are compared without.
    /// </summary>
    private static JsonNode? ServerSettingsLeftOut(JsonNode? node)
    {
        if (node?["queues"] is JsonArray queues)
        {
            foreach (var queue in queues.OfType<JsonObject>())
            {
                queue.Remove("hard_limit");
                queue.Remove("warning_depth");
            }
        }

        return node;
    }
}
