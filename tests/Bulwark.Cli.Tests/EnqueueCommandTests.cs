using System.Text.Json;

namespace Bulwark.Cli.Tests;

public sealed class EnqueueCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Enqueue_prints_the_new_id_and_jobs_list_shows_it()
    {
        var enqueued = await _cli.RunAsync("enqueue", "email", "email.send", "--payload", """{"to":"a@example.com"}""");

        Assert.True(enqueued.ExitCode == 0, enqueued.ToString());
        var id = Assert.Single(enqueued.Lines);
        Assert.True(long.TryParse(id, out _), $"'{id}' is not an id");

        var list = await _cli.RunAsync("jobs", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        var row = Assert.Single(list.Lines, l => l.StartsWith(id + " ", StringComparison.Ordinal));
        Assert.Contains("email.send", row, StringComparison.Ordinal);
        Assert.Contains("ready", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Count_enqueues_that_many_jobs_and_prints_each_id_on_its_own_line()
    {
        var result = await _cli.RunAsync("enqueue", "bulk", "demo.noop", "--count", "5");

        Assert.True(result.ExitCode == 0, result.ToString());
        var ids = result.Lines.Select(long.Parse).ToArray();
        Assert.Equal(5, ids.Distinct().Count());
        var queues = await _cli.JsonAsync("queues");
        var bulk = Assert.Single(queues.GetProperty("queues").EnumerateArray());
        Assert.Equal("bulk", bulk.GetProperty("name").GetString());
        Assert.Equal(5, bulk.GetProperty("counts").GetProperty("ready").GetInt64());
    }

    [Fact]
    public async Task A_count_batch_with_one_bad_job_stores_none_of_them()
    {
        await _cli.RunAsync("enqueue", "seed", "demo.noop");

        // The dependency does not exist, so the store refuses the batch as a whole.
        var result = await _cli.RunAsync("enqueue", "bulk", "demo.noop", "--count", "3", "--depends-on", "999999");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("999999", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
        Assert.Equal(1, await _cli.CountJobsAsync());
    }

    [Fact]
    public async Task An_idempotency_key_returns_the_live_job_instead_of_storing_another()
    {
        var first = await _cli.RunAsync("enqueue", "orders", "order.ship", "--key", "order-42");
        var second = await _cli.RunAsync("enqueue", "orders", "order.ship", "--key", "order-42");

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(first.Lines, second.Lines);
        Assert.Contains("order-42", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, await _cli.CountJobsAsync());
    }

    [Fact]
    public async Task Enqueue_options_are_stored_on_the_job()
    {
        var id = (await _cli.RunAsync(
            "enqueue", "reports", "report.build", "--payload", """{"n":1}""", "--priority", "7", "--delay", "1h",
            "--max-attempts", "5", "--timeout", "90s", "--backoff", "fixed(5s)", "--key", "r-1")).Lines.Single();

        var job = await _cli.JsonAsync("jobs", "show", id);

        Assert.Equal("scheduled", job.GetProperty("state").GetString());
        Assert.Equal(7, job.GetProperty("priority").GetInt32());
        Assert.Equal(5, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal("1m30s", job.GetProperty("timeout").GetString());
        Assert.Equal("fixed(5s)", job.GetProperty("backoff").GetString());
        Assert.Equal("r-1", job.GetProperty("key").GetString());
        Assert.Equal(1, job.GetProperty("payload").GetProperty("n").GetInt32());
        var runAt = job.GetProperty("run_at").GetDateTimeOffset();
        Assert.InRange(runAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(50), TimeSpan.FromMinutes(61));
    }

    [Fact]
    public async Task A_dependent_job_waits_as_pending()
    {
        var parent = (await _cli.RunAsync("enqueue", "flow", "step.one")).Lines.Single();
        var child = (await _cli.RunAsync("enqueue", "flow", "step.two", "--depends-on", parent)).Lines.Single();

        var job = await _cli.JsonAsync("jobs", "show", child);

        Assert.Equal("pending", job.GetProperty("state").GetString());
        Assert.Equal(long.Parse(parent), Assert.Single(job.GetProperty("depends_on").EnumerateArray()).GetInt64());
    }

    [Fact]
    public async Task Enqueue_json_output_lists_ids_and_whether_they_were_deduplicated()
    {
        var results = await _cli.JsonAsync("enqueue", "default", "demo.noop", "--count", "2");

        // POST /jobs's shapes: a batch is {jobs: [...]}, one job {id, deduplicated}.
        Assert.Equal(2, results.GetProperty("jobs").GetArrayLength());
        Assert.All(results.GetProperty("jobs").EnumerateArray(), r =>
        {
            Assert.True(r.GetProperty("id").GetInt64() > 0);
            Assert.False(r.GetProperty("deduplicated").GetBoolean());
        });
    }

    [Fact]
    public async Task A_payload_can_come_from_stdin()
    {
        var result = await _cli.RunRawAsync(["enqueue", "default", "demo.sleep", "--payload-file", "-", "--store", _cli.StorePath], stdin: """{"ms":5}""");

        Assert.True(result.ExitCode == 0, result.ToString());
        var job = await _cli.JsonAsync("jobs", "show", result.Lines.Single());
        Assert.Equal(5, job.GetProperty("payload").GetProperty("ms").GetInt32());
    }

    [Fact]
    public async Task The_store_can_be_chosen_by_environment_variable()
    {
        var path = Path.Combine(_cli.Directory, "from-env.db");

        var result = await _cli.RunRawAsync(["enqueue", "default", "demo.noop"], new Dictionary<string, string> { ["BULWARK_STORE"] = path });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(path));
        Assert.False(File.Exists(_cli.StorePath));
    }

    [Fact]
    public async Task Without_any_store_option_the_store_is_bulwark_db_in_the_working_directory()
    {
        var result = await _cli.RunRawAsync(["enqueue", "default", "demo.noop"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(File.Exists(Path.Combine(_cli.Directory, "bulwark.db")));
        var list = await _cli.RunRawAsync(["jobs", "list", "--json"]);
        using var page = JsonDocument.Parse(list.Stdout);
        Assert.Equal(1, page.RootElement.GetProperty("items").GetArrayLength());
    }
}
