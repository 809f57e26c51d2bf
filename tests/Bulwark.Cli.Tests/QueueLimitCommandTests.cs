using System.Text.Json;

namespace Bulwark.Cli.Tests;

public sealed class QueueLimitCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Queues_limit_sets_keeps_the_limit_not_given_and_clears()
    {
        var set = await _cli.RunAsync("queues", "limit", "email", "--rate", "5", "--concurrency", "2");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("Queue 'email' limits: rate 5 jobs/s, concurrency 2 running.", set.Stdout, StringComparison.Ordinal);

        var changed = await _cli.JsonAsync("queues", "limit", "email", "--concurrency", "3");
        Assert.Equal((5.0, 3), (changed.GetProperty("rate_limit").GetDouble(), changed.GetProperty("concurrency_limit").GetInt32()));

        var cleared = await _cli.JsonAsync("queues", "limit", "email", "--clear");
        // As in the API, a limit that is not set is left out.
        Assert.Equal((false, false, "email"), (cleared.TryGetProperty("rate_limit", out _), cleared.TryGetProperty("concurrency_limit", out _), cleared.GetProperty("queue").GetString()));
    }

    [Theory]
    [InlineData(new[] { "--rate", "0" }, "must be more than 0")]
    [InlineData(new[] { "--rate", "fast" }, "--rate must be a number")]
    [InlineData(new[] { "--concurrency", "0" }, "at least 1")]
    [InlineData(new[] { "--concurrency", "2.5" }, "--concurrency must be a whole number")]
    [InlineData(new[] { "--clear", "--rate", "5" }, "--clear alone")]
    [InlineData(new string[0], "Say what to change")]
    public async Task Bad_limits_exit_2_and_the_stored_limits_stay(string[] options, string expected)
    {
        Assert.Equal(0, (await _cli.RunAsync("queues", "limit", "email", "--rate", "7")).ExitCode);

        var result = await _cli.RunAsync(["queues", "limit", "email", .. options]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        var kept = await _cli.JsonAsync("queues", "limit", "email", "--concurrency", "1");
        Assert.Equal(7.0, kept.GetProperty("rate_limit").GetDouble());
    }

    [Fact]
    public async Task Queues_limit_works_through_a_server_and_the_server_refuses_bad_values()
    {
        await using var serve = await ServeForCli.StartAsync(_cli);

        var set = await _cli.RunRawAsync(["queues", "limit", "email", "--rate", "2.5", "--concurrency", "4", "--url", serve.Url, "--json"]);
        Assert.True(set.ExitCode == 0, set + serve.Output);
        var limits = JsonDocument.Parse(set.Stdout).RootElement;
        Assert.Equal((2.5, 4), (limits.GetProperty("rate_limit").GetDouble(), limits.GetProperty("concurrency_limit").GetInt32()));

        using var http = new HttpClient();
        var queue = JsonDocument.Parse(await http.GetStringAsync(serve.Url + "/api/v1/queues/email")).RootElement;
        Assert.Equal((2.5, 4), (queue.GetProperty("rate_limit").GetDouble(), queue.GetProperty("concurrency_limit").GetInt32()));

        var cleared = await _cli.RunRawAsync(["queues", "limit", "email", "--clear", "--url", serve.Url]);
        Assert.True(cleared.ExitCode == 0, cleared.ToString());
        Assert.Contains("rate none, concurrency none", cleared.Stdout, StringComparison.Ordinal);
    }
}
