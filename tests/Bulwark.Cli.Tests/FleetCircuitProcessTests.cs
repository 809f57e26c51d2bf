using System.Net;
using System.Text;
using System.Text.Json;
using Bulwark.TestProcesses;

namespace Bulwark.Cli.Tests;

/// <summary>
/// Circuit breakers on a real fleet: <c>bulwark serve --workers 0</c> and two separate <c>bulwark worker</c> processes on
/// one store. Opening a type's breaker through the server's API (or the CLI) holds its jobs on every worker; closing it
/// lets them run.
/// </summary>
public sealed class FleetCircuitProcessTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>();

    [Fact]
    public async Task Opening_a_breaker_through_the_servers_api_stops_both_workers_and_closing_it_runs_the_jobs()
    {
        using var cli = new CliRunner();
        await using var serve = await ServeForCli.StartAsync(cli);
        using var http = new HttpClient { BaseAddress = new Uri(serve.Url + "/api/v1/"), Timeout = TimeSpan.FromSeconds(30) };
        await using var a = BulwarkProcess.Start(NoEnvironment, cli.Directory, "worker", "--store", cli.StorePath, "--name", "fleet-a", "--concurrency", "2");
        await using var b = BulwarkProcess.Start(NoEnvironment, cli.Directory, "worker", "--store", cli.StorePath, "--name", "fleet-b", "--concurrency", "2");
        foreach (var worker in new[] { a, b })
        {
            await worker.WaitForLineAsync(l => l.Contains("registered: name fleet-", StringComparison.Ordinal), Deadline);
        }

        using (var open = await http.PostAsync("circuit-breakers/demo.noop/open", null))
        {
            var body = await open.Content.ReadAsStringAsync();
            Assert.True(open.StatusCode == HttpStatusCode.OK, body);
            var breaker = JsonDocument.Parse(body).RootElement;
            Assert.Equal("open", breaker.GetProperty("state").GetString());
            Assert.True(breaker.GetProperty("manual").GetBoolean());
        }

        // Each worker says when it saw the fleet's breaker (within one poll): from then on it leases no demo.noop.
        foreach (var worker in new[] { a, b })
        {
            await worker.WaitForLineAsync(l => l.Contains("demo.noop opened by hand (fleet-wide)", StringComparison.Ordinal), Deadline);
        }

        var held = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            held.Add(await EnqueueAsync(http, """{"type":"demo.noop"}"""));
        }

        // Another type keeps running on the same workers: once its jobs are done, the workers have polled past the held ones.
        var others = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            others.Add(await EnqueueAsync(http, """{"type":"demo.sleep","payload":{"ms":300}}"""));
        }

        await Poll.UntilAsync(async () => (await StatesAsync(http, others)).All(s => s == "completed"), Deadline, () => "the other type's jobs did not complete");
        Assert.All(await StatesAsync(http, held), s => Assert.Equal("ready", s));

        var explain = JsonDocument.Parse(await http.GetStringAsync($"jobs/{held[0]}/explain")).RootElement;
        var reason = explain.GetProperty("reasons").EnumerateArray().Single(r => r.GetProperty("code").GetString() == "circuit_open");
        Assert.Contains("demo.noop", reason.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("opened by hand for the whole fleet", reason.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The CLI reads the same state through the server.
        var listed = await cli.RunRawAsync(["circuit", "list", "--url", serve.Url]);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("demo.noop", listed.Stdout, StringComparison.Ordinal);
        Assert.Contains("hand (fleet)", listed.Stdout, StringComparison.Ordinal);

        using (var close = await http.PostAsync("circuit-breakers/demo.noop/close", null))
        {
            var body = await close.Content.ReadAsStringAsync();
            Assert.True(close.StatusCode == HttpStatusCode.OK, body);
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("was_open").GetBoolean());
        }

        await Poll.UntilAsync(async () => (await StatesAsync(http, held)).All(s => s == "completed"), Deadline, () => "the held jobs did not run after the close");
        foreach (var worker in new[] { a, b })
        {
            await worker.WaitForLineAsync(l => l.Contains("demo.noop closed (by hand, fleet-wide)", StringComparison.Ordinal), Deadline);
        }
    }

    [Fact]
    public async Task The_cli_opens_and_closes_a_breaker_on_the_store_and_refuses_an_invalid_type()
    {
        using var cli = new CliRunner();
        Assert.Equal(0, (await cli.RunAsync("enqueue", "default", "demo.noop")).ExitCode); // creates the store

        var opened = await cli.RunAsync("circuit", "open", "demo.email", "--json");
        Assert.Equal(0, opened.ExitCode);
        Assert.Equal("open", JsonDocument.Parse(opened.Stdout).RootElement.GetProperty("state").GetString());
        var listed = JsonDocument.Parse((await cli.RunAsync("circuit", "list", "--json")).Stdout).RootElement.GetProperty("types");
        Assert.Equal("demo.email", Assert.Single(listed.EnumerateArray()).GetProperty("type").GetString());

        var bad = await cli.RunAsync("circuit", "open", "bad type!");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'bad type!' is not a valid job type", bad.Stderr, StringComparison.Ordinal);

        var closed = await cli.RunAsync("circuit", "close", "demo.email");
        Assert.Equal(0, closed.ExitCode);
        Assert.Contains("is closed", closed.Stdout, StringComparison.Ordinal);
        Assert.Contains("Every circuit is closed.", (await cli.RunAsync("circuit", "list")).Stdout, StringComparison.Ordinal);
    }

    private static async Task<long> EnqueueAsync(HttpClient http, string json)
    {
        using var response = await http.PostAsync("jobs", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    private static async Task<string[]> StatesAsync(HttpClient http, IEnumerable<long> ids) =>
        await Task.WhenAll(ids.Select(async id => JsonDocument.Parse(await http.GetStringAsync($"jobs/{id}")).RootElement.GetProperty("state").GetString()!));
}
