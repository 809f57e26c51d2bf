using System.Text.Json;

namespace Bulwark.Cli.Tests;

public sealed class AdminCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Pause_and_resume_show_in_the_queue_listing()
    {
        await _cli.RunAsync("enqueue", "mail", "demo.noop");

        var paused = await _cli.RunAsync("pause", "mail");
        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.True(Queue(await _cli.JsonAsync("queues"), "mail").GetProperty("paused").GetBoolean());
        var text = await _cli.RunAsync("queues");
        Assert.Matches(@"(?m)^mail\s+yes\s", text.Stdout);

        var resumed = await _cli.RunAsync("resume", "mail");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.False(Queue(await _cli.JsonAsync("queues"), "mail").GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Dlq_list_shows_dead_letters_and_retry_all_makes_them_ready()
    {
        await _cli.RunAsync("enqueue", "payments", "payment.capture", "--count", "3", "--max-attempts", "1");
        await _cli.RunAsync("enqueue", "other", "demo.noop");
        await StoreSeeder.DeadLetterAllAsync(_cli.StorePath, "payments");

        var dlq = await _cli.RunAsync("dlq", "list", "payments");
        Assert.True(dlq.ExitCode == 0, dlq.ToString());
        Assert.Equal(3, dlq.Lines.Count(l => l.Contains("dead_letter", StringComparison.Ordinal)));
        Assert.Contains("upstream is down", dlq.Stdout, StringComparison.Ordinal);

        var retried = await _cli.JsonAsync("dlq", "retry-all", "payments");
        Assert.Equal(3, retried.GetProperty("retried").GetInt32());

        var counts = Queue(await _cli.JsonAsync("queues"), "payments").GetProperty("counts");
        Assert.Equal(3, counts.GetProperty("ready").GetInt64());
        Assert.Equal(0, counts.GetProperty("dead_letter").GetInt64());
        Assert.Equal(0, (await _cli.JsonAsync("dlq", "list", "payments")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Eight_processes_enqueueing_one_key_at_once_on_one_file_store_one_job_and_all_print_its_id()
    {
        // Real processes, each with its own connection to the file: SQLite's write lock is all that orders them.
        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _cli.RunAsync("enqueue", "orders", "demo.noop", "--key", "order-77")));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.ToString()));
        Assert.Single(runs.Select(r => r.Lines.Single()).Distinct());
        Assert.Equal(7, runs.Count(r => r.Stderr.Contains("already belongs to unfinished job", StringComparison.Ordinal)));
        Assert.Equal(1, await _cli.CountJobsAsync());
    }

    [Fact]
    public async Task Jobs_show_prints_the_errors_as_a_timeline()
    {
        var id = (await _cli.RunAsync("enqueue", "payments", "payment.capture", "--max-attempts", "1")).Lines.Single();
        await StoreSeeder.DeadLetterAllAsync(_cli.StorePath, "payments");

        var show = await _cli.RunAsync("jobs", "show", id);

        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Matches(@"(?m)^state:\s+dead_letter$", show.Stdout);
        Assert.Matches(@"(?m)^reason:\s+attempts exhausted$", show.Stdout);
        Assert.Matches(@"(?m)^  attempt 1 .* Temporary  worker seeder-", show.Stdout);
        Assert.Contains("System.Net.Http.HttpRequestException: upstream is down", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("at Demo.Handler.Run()", show.Stdout, StringComparison.Ordinal);
        var json = await _cli.JsonAsync("jobs", "show", id);
        var error = Assert.Single(json.GetProperty("errors").EnumerateArray());
        Assert.Equal("temporary", error.GetProperty("category").GetString());
    }

    [Fact]
    public async Task Cancel_then_retry_brings_a_job_back_to_ready()
    {
        var id = (await _cli.RunAsync("enqueue", "default", "demo.noop")).Lines.Single();

        var cancel = await _cli.RunAsync("jobs", "cancel", id);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Equal("cancelled", (await _cli.JsonAsync("jobs", "show", id)).GetProperty("state").GetString());

        var cancelAgain = await _cli.RunAsync("jobs", "cancel", id);
        Assert.True(cancelAgain.ExitCode == 1, cancelAgain.ToString());
        Assert.Contains("already finished", cancelAgain.Stderr, StringComparison.Ordinal);

        var retry = await _cli.RunAsync("jobs", "retry", id);
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Equal("ready", (await _cli.JsonAsync("jobs", "show", id)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Retrying_a_waiting_job_is_refused_with_its_state()
    {
        var id = (await _cli.RunAsync("enqueue", "default", "demo.noop")).Lines.Single();

        var retry = await _cli.RunAsync("jobs", "retry", id);

        Assert.True(retry.ExitCode == 1, retry.ToString());
        Assert.Contains($"Job {id} is ready", retry.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_list_pages_with_the_cursor_it_prints()
    {
        var ids = (await _cli.RunAsync("enqueue", "default", "demo.noop", "--count", "5")).Lines.Select(long.Parse).ToArray();

        var first = await _cli.JsonAsync("jobs", "list", "--limit", "3");
        // As GET /jobs: the cursor is a string, and the last page has none.
        var cursor = long.Parse(first.GetProperty("next_cursor").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var second = await _cli.JsonAsync("jobs", "list", "--limit", "3", "--cursor", cursor.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var seen = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Select(j => j.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(ids.OrderDescending(), seen);
        Assert.False(second.TryGetProperty("next_cursor", out _));

        var text = await _cli.RunAsync("jobs", "list", "--limit", "3");
        Assert.Contains($"--cursor {cursor}", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_list_filters_by_queue_and_state()
    {
        await _cli.RunAsync("enqueue", "a", "demo.noop", "--count", "2");
        await _cli.RunAsync("enqueue", "b", "demo.noop");
        var scheduled = (await _cli.RunAsync("enqueue", "a", "demo.noop", "--delay", "1h")).Lines.Single();

        var inA = await _cli.JsonAsync("jobs", "list", "--queue", "a");
        var scheduledInA = await _cli.JsonAsync("jobs", "list", "--queue", "a", "--state", "scheduled");

        Assert.Equal(3, inA.GetProperty("items").GetArrayLength());
        Assert.Equal(long.Parse(scheduled), Assert.Single(scheduledInA.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Clean_deletes_old_jobs_of_one_queue_and_state_only()
    {
        var cancelled = (await _cli.RunAsync("enqueue", "q", "demo.noop")).Lines.Single();
        await _cli.RunAsync("jobs", "cancel", cancelled);
        await _cli.RunAsync("enqueue", "q", "demo.noop");

        var young = await _cli.JsonAsync("clean", "--queue", "q", "--state", "cancelled", "--older-than", "1h");
        Assert.Equal(0, young.GetProperty("deleted").GetInt32());

        var result = await _cli.RunAsync("clean", "--queue", "q", "--state", "cancelled", "--older-than", "0s");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Deleted 1 cancelled job(s)", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, await _cli.CountJobsAsync());
        Assert.Equal(1, (await _cli.RunAsync("jobs", "show", cancelled)).ExitCode);
    }

    [Fact]
    public async Task Workers_and_stalled_list_what_the_store_knows()
    {
        Assert.Equal(0, (await _cli.RunAsync("enqueue", "default", "demo.noop", "--count", "2")).ExitCode);
        Assert.Contains("No stalled jobs", (await _cli.RunAsync("stalled")).Stdout, StringComparison.Ordinal);
        var worker = await StoreSeeder.LeaseExpiredAsync(_cli.StorePath, "default");

        var workers = await _cli.JsonAsync("workers");
        var listed = Assert.Single(workers.GetProperty("workers").EnumerateArray());
        Assert.Equal(worker.Id, listed.GetProperty("id").GetString());
        Assert.Contains(worker.Id, (await _cli.RunAsync("workers")).Stdout, StringComparison.Ordinal);

        var stalled = await _cli.JsonAsync("stalled");
        Assert.Equal(2, stalled.GetProperty("jobs").GetArrayLength());
        Assert.All(stalled.GetProperty("jobs").EnumerateArray(), j => Assert.Equal(worker.Id, j.GetProperty("lease_owner").GetString()));
        var text = await _cli.RunAsync("stalled");
        Assert.Equal(2, text.Lines.Count(l => l.Contains(worker.Id, StringComparison.Ordinal)));
    }

    private static JsonElement Queue(JsonElement queues, string name) =>
        queues.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == name);
}
