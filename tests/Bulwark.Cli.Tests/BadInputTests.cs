namespace Bulwark.Cli.Tests;

public sealed class BadInputTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    public static TheoryData<string[], string> RefusedEnqueues => new()
    {
        { ["enqueue", "Bad Queue!", "demo.noop"], "not a valid queue name" },
        { ["enqueue", "default", "demo.noop", "--payload", "{nope"], "not valid JSON" },
        { ["enqueue", "default", "demo.noop", "--delay", "5x"], "not a duration" },
        { ["enqueue", "default", "demo.noop", "--timeout", "soon"], "not a duration" },
        { ["enqueue", "default", "demo.noop", "--backoff", "linear(1s)"], "not a backoff" },
        { ["enqueue", "default", "demo.noop", "--backoff", "exponential(1s,1h,abc)"], "not a jitter" },
        { ["enqueue", "default", "demo.noop", "--max-attempts", "0"], "max_attempts must be between 1" },
        { ["enqueue", "default", "demo.noop", "--count", "0"], "--count must be a whole number between 1 and 10000" },
        { ["enqueue", "default", "demo.noop", "--depends-on", "1,x"], "not a job id" },
        { ["enqueue", "default", "demo.noop", "--run-at", "tomorrow"], "not a date and time" },
        { ["enqueue", "default", "demo.noop", "--delay", "5s", "--run-at", "2030-01-01T00:00:00Z"], "either --delay or --run-at" },
        { ["enqueue", "default", "demo.noop", "--colour", "red"], "--colour" },
        { ["enqueue", "default"], "Required argument missing" },
        { ["enqueue", "default", "demo.noop", "--priority", "high"], "high" },
    };

    [Theory]
    [InlineData("postgres://bulwark@127.0.0.1:1/jobs?schema=Bad-Name", "Bad-Name")]
    [InlineData("Host=127.0.0.1;Port=1;Database=jobs;Schema=1st", "1st")]
    public async Task A_postgres_store_naming_an_unusable_schema_is_refused_before_connecting(string store, string schema)
    {
        var result = await _cli.RunRawAsync(["worker", "--store", store]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"the schema '{schema}' is not usable", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("lower-case letters, digits and underscores", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(RefusedEnqueues))]
    public async Task A_refused_enqueue_exits_2_says_why_and_stores_nothing(string[] args, string expected)
    {
        var seeded = await _cli.RunAsync("enqueue", "seed", "demo.noop");
        Assert.Equal(0, seeded.ExitCode);

        var result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
        Assert.Equal(1, await _cli.CountJobsAsync());
    }

    [Fact]
    public async Task An_oversize_payload_is_refused_before_the_store_is_created()
    {
        var file = Path.Combine(_cli.Directory, "big.json");
        await File.WriteAllTextAsync(file, "\"" + new string('x', 1024 * 1024 + 10) + "\"");

        var result = await _cli.RunAsync("enqueue", "default", "demo.noop", "--payload-file", file);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("over the limit", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.StorePath), "a refused enqueue created the store");
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("jobs", "explode")]
    [InlineData("jobs", "list", "--state", "sleeping")]
    [InlineData("jobs", "list", "--limit", "0")]
    [InlineData("jobs", "list", "--cursor", "-4")]
    [InlineData("jobs", "show", "abc")]
    [InlineData("jobs", "show", "0")]
    [InlineData("pause", "Not A Queue")]
    [InlineData("clean", "--queue", "q", "--state", "completed")]
    [InlineData("clean", "--queue", "q", "--state", "running", "--older-than", "1d")]
    [InlineData("clean", "--queue", "q", "--state", "completed", "--older-than", "a week")]
    [InlineData("clean", "--queue", "q", "--state", "sleeping", "--older-than", "1d")]
    [InlineData("enqueue", "q", "t", "--count", "many")]
    [InlineData("jobs", "list", "--limit", "ten")]
    public async Task Malformed_commands_exit_2_with_a_pointer_to_the_help(params string[] args)
    {
        var result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("bulwark: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--help", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_state_names_the_valid_ones()
    {
        var result = await _cli.RunAsync("jobs", "list", "--state", "sleeping");

        Assert.Contains("'sleeping' is not a job state", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("dead_letter", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_a_store_that_does_not_exist_fails_without_creating_it()
    {
        var result = await _cli.RunAsync("jobs", "list");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("There is no store at", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.StorePath));
    }

    [Fact]
    public async Task A_missing_job_is_a_failure_not_a_usage_error()
    {
        await _cli.RunAsync("enqueue", "default", "demo.noop");

        foreach (var verb in new[] { "show", "cancel", "retry" })
        {
            var result = await _cli.RunAsync("jobs", verb, "424242");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("no job 424242", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_url_is_refused_clearly_until_the_cli_can_talk_to_servers()
    {
        var result = await _cli.RunRawAsync(["queues", "--url", "http://127.0.0.1:5080"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--url", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--store", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_exits_0_and_lists_the_commands()
    {
        var result = await _cli.RunRawAsync(["--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var command in new[] { "enqueue", "jobs", "queues", "dlq", "pause", "resume", "clean", "workers", "stalled" })
        {
            Assert.Contains(command, result.Stdout, StringComparison.Ordinal);
        }
    }
}
