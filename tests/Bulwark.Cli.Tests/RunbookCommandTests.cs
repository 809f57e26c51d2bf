using System.Text.Json;
using Bulwark.Sqlite;
using Bulwark.Storage;

namespace Bulwark.Cli.Tests;

/// <summary>The runbook steps as commands: explain, reclaim-stalled; a mistyped command answers in one line; help says bulwark.</summary>
public sealed class RunbookCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Explain_says_why_a_job_waits_from_the_store_and_from_a_server_in_the_same_shape()
    {
        var id = (await _cli.RunAsync("enqueue", "mail", "demo.noop")).Lines.Single();
        await _cli.RunAsync("pause", "mail");

        var text = await _cli.RunAsync("explain", id);
        var fromStore = await _cli.JsonAsync("explain", id);
        await using var serve = await ServeForCli.StartAsync(_cli);
        var overHttp = await _cli.RunRawAsync(["explain", id, "--url", serve.Url, "--json"]);

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"Job {id} is ready.", text.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  queue_paused: Queue 'mail' is paused", text.Stdout);
        Assert.True(overHttp.ExitCode == 0, overHttp + serve.Output);
        var fromServer = JsonDocument.Parse(overHttp.Stdout).RootElement;
        string[] Codes(JsonElement e) => [.. e.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("code").GetString()!)];
        Assert.Contains("queue_paused", Codes(fromStore));
        Assert.Contains("queue_paused", Codes(fromServer));
        Assert.Equal(fromStore.GetProperty("runnable").GetBoolean(), fromServer.GetProperty("runnable").GetBoolean());
        Assert.Equal(id, fromServer.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Explain_of_a_missing_job_fails_in_one_line()
    {
        await _cli.RunAsync("enqueue", "mail", "demo.noop");

        var missing = await _cli.RunAsync("explain", "4242");

        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("bulwark: there is no job 4242.", missing.Stderr.Trim());
    }

    [Fact]
    public async Task Reclaim_stalled_takes_back_a_job_whose_lease_expired_now()
    {
        var id = long.Parse((await _cli.RunAsync("enqueue", "mail", "demo.noop")).Lines.Single(), System.Globalization.CultureInfo.InvariantCulture);
        await using (var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = _cli.StorePath }))
        {
            // A worker that leased it for 100 ms and vanished.
            Assert.Single(await store.LeaseAsync(new LeaseRequest("gone-worker", ["mail"], 1, TimeSpan.FromMilliseconds(100))));
        }

        await Poll.UntilAsync(async () => (await _cli.JsonAsync("stalled")).GetProperty("jobs").GetArrayLength() == 1, TimeSpan.FromSeconds(10), () => "the lease never expired");
        var reclaimed = await _cli.JsonAsync("reclaim-stalled");
        var again = await _cli.RunAsync("reclaim-stalled");

        Assert.Equal([id], reclaimed.GetProperty("reclaimed").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(1, reclaimed.GetProperty("total").GetInt32());
        Assert.Contains("Nothing to reclaim", again.Stdout, StringComparison.Ordinal);
        Assert.Equal("ready", (await _cli.JsonAsync("jobs", "show", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_mistyped_command_answers_with_one_line_listing_the_commands()
    {
        var top = await _cli.RunRawAsync(["explian", "25"]);
        var nested = await _cli.RunRawAsync(["jobs", "frob"]);

        Assert.Equal(2, top.ExitCode);
        var line = Assert.Single(top.Stderr.Trim().Split('\n'));
        Assert.StartsWith("bulwark: there is no command 'bulwark explian'; commands: enqueue, jobs, queues,", line, StringComparison.Ordinal);
        Assert.Contains(" explain, ", line, StringComparison.Ordinal);
        Assert.EndsWith(". Run 'bulwark --help'.", line, StringComparison.Ordinal);
        Assert.Equal(2, nested.ExitCode);
        Assert.Single(nested.Stderr.Trim().Split('\n'));
        Assert.Contains("'bulwark jobs frob'; commands: list, show, cancel, retry", nested.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_names_the_command_bulwark()
    {
        var help = await _cli.RunRawAsync(["--help"]);
        var sub = await _cli.RunRawAsync(["explain", "--help"]);

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("  bulwark [command] [options]", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Bulwark.Cli", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("bulwark explain <id>", sub.Stdout, StringComparison.Ordinal);
    }
}
