using System.Text.Json;

namespace Bulwark.Cli.Tests;

public sealed class RecurringCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Recurring_set_list_and_remove_round_trip_on_the_store()
    {
        var set = await _cli.RunAsync("recurring", "set", "nightly-report", "--cron", "0 0 2 * * *", "--tz", "Europe/Paris",
            "--queue", "reports", "--type", "report.build", "--payload", """{"kind":"nightly"}""", "--misfire", "run-once");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("Recurring job 'nightly-report' set: 0 0 2 * * * (Europe/Paris)", set.Stdout, StringComparison.Ordinal);

        var listed = Assert.Single((await _cli.JsonAsync("recurring", "list")).GetProperty("recurring").EnumerateArray());
        Assert.Equal(("nightly-report", "Europe/Paris", "reports", "report.build", "run_once"),
            (listed.GetProperty("name").GetString(), listed.GetProperty("time_zone").GetString(), listed.GetProperty("queue").GetString(),
             listed.GetProperty("type").GetString(), listed.GetProperty("misfire").GetString()));
        Assert.Equal("nightly", listed.GetProperty("payload").GetProperty("kind").GetString());
        // The next 02:00 in Paris is 00:00 or 01:00 UTC, depending on daylight saving time.
        Assert.Contains(listed.GetProperty("next_tick").GetDateTimeOffset().UtcDateTime.Hour, new[] { 0, 1 });
        var text = await _cli.RunAsync("recurring", "list");
        Assert.Matches(@"(?m)^nightly-report\s+0 0 2 \* \* \*\s+Europe/Paris\s+reports\s+report\.build\s+run_once\s", text.Stdout);

        var removed = await _cli.RunAsync("recurring", "remove", "nightly-report");
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Empty((await _cli.JsonAsync("recurring", "list")).GetProperty("recurring").EnumerateArray());
        var again = await _cli.RunAsync("recurring", "remove", "nightly-report");
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("There is no recurring job 'nightly-report'", again.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--cron", "0 0 25 * * *", "is not a valid cron expression")]
    [InlineData("--tz", "Mars/Olympus", "not a time zone known")]
    [InlineData("--misfire", "sometimes", "sometimes")]
    [InlineData("--payload", "{oops", "payload")]
    [InlineData("--queue", "Bad Queue", "queue")]
    public async Task A_bad_recurring_definition_exits_2_and_nothing_is_stored(string option, string value, string expected)
    {
        string[] args = ["recurring", "set", "nightly", "--cron", "0 0 2 * * *", "--queue", "reports", "--type", "report.build"];
        var index = Array.IndexOf(args, option);
        args = index >= 0 ? [.. args[..(index + 1)], value, .. args[(index + 2)..]] : [.. args, option, value];
        await _cli.RunAsync("enqueue", "default", "demo.noop");

        var result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Empty((await _cli.JsonAsync("recurring", "list")).GetProperty("recurring").EnumerateArray());
    }

    [Fact]
    public async Task Recurring_commands_work_through_a_server()
    {
        await using var serve = await ServeForCli.StartAsync(_cli);

        var set = await _cli.RunRawAsync(["recurring", "set", "every-minute", "--cron", "0 * * * * *", "--queue", "ticks", "--type", "demo.noop", "--url", serve.Url, "--json"]);
        Assert.True(set.ExitCode == 0, set + serve.Output);
        Assert.Equal("every-minute", JsonDocument.Parse(set.Stdout).RootElement.GetProperty("name").GetString());
        var list = await _cli.RunRawAsync(["recurring", "list", "--url", serve.Url, "--json"]);
        Assert.Equal("0 * * * * *", Assert.Single(JsonDocument.Parse(list.Stdout).RootElement.GetProperty("recurring").EnumerateArray()).GetProperty("cron").GetString());
        var bad = await _cli.RunRawAsync(["recurring", "remove", "nope", "--url", serve.Url]);
        Assert.True(bad.ExitCode == 1, bad.ToString());

        var removed = await _cli.RunRawAsync(["recurring", "remove", "every-minute", "--url", serve.Url]);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Empty((await _cli.JsonAsync("recurring", "list")).GetProperty("recurring").EnumerateArray());
    }
}
