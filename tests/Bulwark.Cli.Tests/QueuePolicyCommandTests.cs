using System.Text.Json;

namespace Bulwark.Cli.Tests;

public sealed class QueuePolicyCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Queues_policy_sets_shows_keeps_what_is_not_given_and_clears()
    {
        var set = await _cli.RunAsync("queues", "policy", "email", "--max-attempts", "2", "--backoff", "fixed(5s)", "--timeout", "30s", "--retention", "3d");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("Queue 'email' policy: max_attempts 2, backoff fixed(5s), timeout 30s, retention 3d.", set.Stdout, StringComparison.Ordinal);

        var changed = await _cli.JsonAsync("queues", "policy", "email", "--timeout", "none");
        Assert.Equal("""{"queue":"email","max_attempts":2,"backoff":"fixed(5s)","retention":"3d"}""", changed.GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));

        var shown = await _cli.RunAsync("queues", "policy", "email");
        Assert.Contains("max_attempts 2, backoff fixed(5s), retention 3d.", shown.Stdout, StringComparison.Ordinal);

        // A job enqueued without settings takes the policy.
        var enqueued = await _cli.RunAsync("enqueue", "email", "demo.noop");
        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        await using (var store = await Sqlite.SqliteJobStore.OpenAsync(new Sqlite.SqliteStoreOptions { Path = _cli.StorePath }))
        {
            var job = (await store.GetJobAsync(long.Parse(enqueued.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture)))!;
            Assert.Equal((2, "fixed(5s)"), (job.MaxAttempts, job.Backoff.ToString()));
        }

        var cleared = await _cli.RunAsync("queues", "policy", "email", "--clear");
        Assert.Contains("Queue 'email' policy: none.", cleared.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--max-attempts", "0" }, "between 1 and 1000")]
    [InlineData(new[] { "--max-attempts", "two" }, "--max-attempts must be a whole number")]
    [InlineData(new[] { "--timeout", "soon" }, "soon")]
    [InlineData(new[] { "--backoff", "sometimes" }, "sometimes")]
    [InlineData(new[] { "--clear", "--timeout", "5s" }, "--clear alone")]
    public async Task Bad_policy_values_exit_2_and_the_stored_policy_stays(string[] options, string expected)
    {
        Assert.Equal(0, (await _cli.RunAsync("queues", "policy", "email", "--max-attempts", "4")).ExitCode);

        var result = await _cli.RunAsync(["queues", "policy", "email", .. options]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(4, (await _cli.JsonAsync("queues", "policy", "email")).GetProperty("max_attempts").GetInt32());
    }

    [Fact]
    public async Task Queues_policy_works_through_a_server_and_GET_queue_shows_it()
    {
        await using var serve = await ServeForCli.StartAsync(_cli);

        var set = await _cli.RunRawAsync(["queues", "policy", "email", "--max-attempts", "2", "--timeout", "45s", "--url", serve.Url, "--json"]);
        Assert.True(set.ExitCode == 0, set + serve.Output);
        Assert.Equal(2, JsonDocument.Parse(set.Stdout).RootElement.GetProperty("max_attempts").GetInt32());

        using var http = new HttpClient();
        var queue = JsonDocument.Parse(await http.GetStringAsync(serve.Url + "/api/v1/queues/email")).RootElement;
        Assert.Equal((2, "45s"), (queue.GetProperty("policy").GetProperty("max_attempts").GetInt32(), queue.GetProperty("policy").GetProperty("timeout").GetString()));

        var shown = await _cli.RunRawAsync(["queues", "policy", "email", "--url", serve.Url]);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("max_attempts 2, timeout 45s.", shown.Stdout, StringComparison.Ordinal);
    }
}
