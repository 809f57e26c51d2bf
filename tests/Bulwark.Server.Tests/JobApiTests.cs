using System.Net;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Server.Tests;

public sealed class JobApiTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Enqueue_stores_every_field_and_answers_201_with_the_id_and_location()
    {
        using var response = await _app.PostAsync("/api/v1/jobs", """
            {"queue":"email","type":"email.send","payload":{"to":"a@b.c","n":[1,2]},"priority":5,"delay":"30s",
             "max_attempts":7,"timeout":"2m","backoff":"fixed(5s)","key":"order-17","lifetime":"1h"}
            """);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await TestApp.JsonAsync(response)).GetProperty("id").GetInt64();
        Assert.EndsWith($"/api/v1/jobs/{id}", response.Headers.Location?.ToString());
        var job = await _app.Store.GetJobAsync(id);
        Assert.NotNull(job);
        Assert.Equal(("email", "email.send", 5, 7, TimeSpan.FromMinutes(2), "order-17"), (job.Queue, job.Type, job.Priority, job.MaxAttempts, job.Timeout, job.Key));
        Assert.Equal(_app.Time.GetUtcNow().AddSeconds(30), job.RunAt);
        Assert.Equal(_app.Time.GetUtcNow().AddHours(1), job.ExpiresAt);
        Assert.Equal(BackoffPolicy.Fixed(TimeSpan.FromSeconds(5)), job.Backoff);
        Assert.Equal("""{"to":"a@b.c","n":[1,2]}""", job.Payload);
    }

    [Fact]
    public async Task A_live_idempotency_key_returns_the_existing_job_flagged_as_deduplicated()
    {
        var first = await _app.EnqueueAsync(extra: ""","key":"k1" """);

        using var again = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop","key":"k1"}""");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var body = await TestApp.JsonAsync(again);
        Assert.Equal(first, body.GetProperty("id").GetInt64());
        Assert.True(body.GetProperty("deduplicated").GetBoolean());
        Assert.Equal(1, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_batch_is_stored_atomically_and_answers_every_id_in_order()
    {
        using var response = await _app.PostAsync("/api/v1/jobs", """{"jobs":[{"queue":"a","type":"t1"},{"queue":"b","type":"t2"}]}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var ids = (await TestApp.JsonAsync(response)).GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(2, ids.Length);
        Assert.Equal("t1", (await _app.Store.GetJobAsync(ids[0]))!.Type);
        Assert.Equal("t2", (await _app.Store.GetJobAsync(ids[1]))!.Type);
    }

    [Fact]
    public async Task The_producers_traceparent_header_is_stored_with_the_job()
    {
        const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent("""{"type":"demo.noop"}""", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("traceparent", TraceParent);

        using var response = await _app.Client.SendAsync(request);

        var id = (await TestApp.JsonAsync(response)).GetProperty("id").GetInt64();
        Assert.Equal(TraceParent, (await _app.Store.GetJobAsync(id))!.TraceParent);
    }

    [Fact]
    public async Task Get_shows_the_job_with_its_payload_as_json_in_snake_case()
    {
        var id = await _app.EnqueueAsync("default", "demo.noop", ""","max_attempts":2""", """{"hello":"world"}""");

        using var response = await _app.GetAsync($"/api/v1/jobs/{id}");

        var job = await TestApp.JsonAsync(response);
        Assert.Equal(id, job.GetProperty("id").GetInt64());
        Assert.Equal("ready", job.GetProperty("state").GetString());
        Assert.Equal(2, job.GetProperty("max_attempts").GetInt32());
        Assert.Equal("world", job.GetProperty("payload").GetProperty("hello").GetString());
    }

    [Fact]
    public async Task Listing_pages_newest_first_with_a_cursor_and_filters_by_state()
    {
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await _app.EnqueueAsync("paged"));
        }

        await _app.PostAsync($"/api/v1/jobs/{ids[0]}/cancel");
        var seen = new List<long>();
        string? cursor = null;
        do
        {
            using var page = await _app.GetAsync($"/api/v1/jobs?queue=paged&limit=2{(cursor is null ? "" : $"&cursor={cursor}")}");
            var body = await TestApp.JsonAsync(page);
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetInt64()));
            cursor = body.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);
        using var cancelled = await _app.GetAsync("/api/v1/jobs?queue=paged&state=cancelled");

        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
        var only = (await TestApp.JsonAsync(cancelled)).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(ids[0], only.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Cancel_then_retry_moves_the_job_and_a_second_cancel_is_a_409()
    {
        var id = await _app.EnqueueAsync();

        using var cancel = await _app.PostAsync($"/api/v1/jobs/{id}/cancel");
        using var again = await _app.PostAsync($"/api/v1/jobs/{id}/cancel");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        await BadInputTests.AssertProblemAsync(again, HttpStatusCode.Conflict, "already finished");
        Assert.Equal(JobState.Cancelled, (await _app.Store.GetJobAsync(id))!.State);

        using var retry = await _app.PostAsync($"/api/v1/jobs/{id}/retry");
        using var retryReady = await _app.PostAsync($"/api/v1/jobs/{id}/retry");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        await BadInputTests.AssertProblemAsync(retryReady, HttpStatusCode.Conflict, "only failed, dead_letter and cancelled");
        Assert.Equal(JobState.Ready, (await _app.Store.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task Retrying_a_dependent_of_a_cancelled_parent_is_a_409_naming_the_parent_until_the_parent_is_retried()
    {
        var parent = await _app.EnqueueAsync();
        var child = await _app.EnqueueAsync(extra: $$""","depends_on":[{{parent}}]""");
        using var cancel = await _app.PostAsync($"/api/v1/jobs/{parent}/cancel");
        Assert.Equal(JobState.DeadLetter, (await _app.Store.GetJobAsync(child))!.State);

        using var refused = await _app.PostAsync($"/api/v1/jobs/{child}/retry");

        await BadInputTests.AssertProblemAsync(refused, HttpStatusCode.Conflict, $"depends on job {parent}, which ended cancelled");
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((child, parent, "dependency_not_completed"),
            (problem.GetProperty("job_id").GetInt64(), problem.GetProperty("conflicting_job_id").GetInt64(), problem.GetProperty("conflict").GetString()));
        Assert.Equal(JobState.DeadLetter, (await _app.Store.GetJobAsync(child))!.State);

        using var retryParent = await _app.PostAsync($"/api/v1/jobs/{parent}/retry");
        using var retryChild = await _app.PostAsync($"/api/v1/jobs/{child}/retry");
        Assert.Equal("ready", (await TestApp.JsonAsync(retryParent)).GetProperty("state").GetString());
        Assert.Equal("pending", (await TestApp.JsonAsync(retryChild)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Retrying_a_job_whose_key_a_live_job_holds_is_a_409_naming_that_job()
    {
        var first = await _app.EnqueueAsync(extra: ""","key":"order-9" """);
        using var cancel = await _app.PostAsync($"/api/v1/jobs/{first}/cancel");
        var holder = await _app.EnqueueAsync(extra: ""","key":"order-9" """);

        using var refused = await _app.PostAsync($"/api/v1/jobs/{first}/retry");

        await BadInputTests.AssertProblemAsync(refused, HttpStatusCode.Conflict, $"held by job {holder}");
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((holder, "key_held"), (problem.GetProperty("conflicting_job_id").GetInt64(), problem.GetProperty("conflict").GetString()));
        Assert.Equal(JobState.Cancelled, (await _app.Store.GetJobAsync(first))!.State);
    }

    [Fact]
    public async Task Explain_names_the_dependency_a_pending_job_waits_for()
    {
        var parent = await _app.EnqueueAsync();
        var child = await _app.EnqueueAsync(extra: $$""","depends_on":[{{parent}}]""");

        var explain = await ExplainAsync(child);

        var reason = explain.GetProperty("reasons").EnumerateArray().First(r => r.GetProperty("code").GetString() == "waiting_on_dependencies");
        Assert.Equal(parent, reason.GetProperty("dependencies")[0].GetProperty("id").GetInt64());
        Assert.Equal("ready", reason.GetProperty("dependencies")[0].GetProperty("state").GetString());
        Assert.False(explain.GetProperty("runnable").GetBoolean());
    }

    [Fact]
    public async Task Explain_says_from_which_worker_a_job_was_reclaimed_and_that_one_crash_does_not_isolate_it()
    {
        var id = await _app.EnqueueAsync("recovered");
        await CrashAsync("recovered", "w-dead-1");

        var reasons = (await ExplainAsync(id)).GetProperty("reasons").EnumerateArray().ToArray();

        var reclaimed = reasons.Single(r => r.GetProperty("code").GetString() == "reclaimed");
        Assert.Equal("w-dead-1", reclaimed.GetProperty("worker").GetString());
        Assert.Contains("Reclaimed from worker w-dead-1 at ", reclaimed.GetProperty("detail").GetString());
        Assert.Contains("Not isolated", reclaimed.GetProperty("detail").GetString());
        Assert.DoesNotContain(reasons, r => r.GetProperty("code").GetString() == "runs_alone");
    }

    [Fact]
    public async Task Explain_says_a_job_present_at_two_crashes_runs_alone_and_why()
    {
        var id = await _app.EnqueueAsync("recovered", extra: ""","max_attempts":5""");
        await CrashAsync("recovered", "w-dead-1");
        await CrashAsync("recovered", "w-dead-2");

        var explain = await ExplainAsync(id);

        var reasons = explain.GetProperty("reasons").EnumerateArray().ToArray();
        Assert.Equal("w-dead-2", reasons.Single(r => r.GetProperty("code").GetString() == "reclaimed").GetProperty("worker").GetString());
        var alone = reasons.Single(r => r.GetProperty("code").GetString() == "runs_alone").GetProperty("detail").GetString();
        Assert.Contains("attempt 3 runs alone because it was running on 2 workers that died", alone);
        // Isolation is how it runs, not what keeps it waiting: only the missing worker does.
        Assert.Equal(["no_worker", "reclaimed", "runs_alone"], reasons.Select(r => r.GetProperty("code").GetString()!).Order().ToArray());
    }

    /// <summary>A worker leases the queue's job and dies: its lease expires and maintenance's reclaim takes the job back.</summary>
    private async Task CrashAsync(string queue, string worker)
    {
        Assert.Single(await _app.Store.LeaseAsync(new LeaseRequest(worker, [queue], 1, TimeSpan.FromSeconds(5))));
        _app.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Single((await _app.Store.ReclaimAsync(TimeSpan.FromMinutes(10))).Reclaimed);
    }

    [Fact]
    public async Task Explain_says_until_when_a_delayed_job_is_scheduled()
    {
        var id = await _app.EnqueueAsync(extra: ""","delay":"90s" """);

        var explain = await ExplainAsync(id);

        var reason = explain.GetProperty("reasons")[0];
        Assert.Equal("scheduled", reason.GetProperty("code").GetString());
        Assert.Equal(_app.Time.GetUtcNow().AddSeconds(90), reason.GetProperty("until").GetDateTimeOffset());
    }

    [Fact]
    public async Task Explain_says_the_queue_is_paused_and_that_no_worker_serves_it()
    {
        var id = await _app.EnqueueAsync("held");
        await _app.PostAsync("/api/v1/queues/held/pause");

        var codes = (await ExplainAsync(id)).GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("code").GetString()).ToArray();

        Assert.Contains("queue_paused", codes);
        Assert.Contains("no_worker", codes);
    }

    [Fact]
    public async Task Explain_names_the_worker_holding_a_running_job_and_until_when()
    {
        var id = await _app.EnqueueAsync("busy");
        var leased = await _app.Store.LeaseAsync(new LeaseRequest("w-42", ["busy"], 1, TimeSpan.FromSeconds(10)));

        var reason = (await ExplainAsync(id)).GetProperty("reasons")[0];

        Assert.Single(leased);
        Assert.Equal("leased", reason.GetProperty("code").GetString());
        Assert.Equal("w-42", reason.GetProperty("worker").GetString());
        Assert.Equal(leased[0].LeaseExpiresAt, reason.GetProperty("until").GetDateTimeOffset());
    }

    [Fact]
    public async Task Queues_show_counts_depth_and_limits_and_pause_resume_round_trips()
    {
        await _app.EnqueueAsync("q1");
        await _app.EnqueueAsync("q1", extra: ""","delay":"1m" """);

        using var pause = await _app.PostAsync("/api/v1/queues/q1/pause");
        using var one = await _app.GetAsync("/api/v1/queues/q1");
        var q = await TestApp.JsonAsync(one);
        Assert.True(q.GetProperty("paused").GetBoolean());
        Assert.Equal(1, q.GetProperty("counts").GetProperty("ready").GetInt64());
        Assert.Equal(1, q.GetProperty("counts").GetProperty("scheduled").GetInt64());
        Assert.Equal(2, q.GetProperty("depth").GetInt64());

        using var resume = await _app.PostAsync("/api/v1/queues/q1/resume");
        using var all = await _app.GetAsync("/api/v1/queues");
        var listed = (await TestApp.JsonAsync(all)).GetProperty("queues").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "q1");
        Assert.False(listed.GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Dead_letters_of_a_queue_are_retried_in_bulk_and_old_jobs_deleted_by_state()
    {
        var dead = await _app.EnqueueAsync("dlq", extra: ""","max_attempts":1""");
        var leased = await _app.Store.LeaseAsync(new LeaseRequest("w1", ["dlq"], 1, TimeSpan.FromSeconds(10)));
        await _app.Store.FinishAsync([JobOutcome.DeadLetter(leased[0].Token, new JobError(1, "w1", null, _app.Time.GetUtcNow(), FailureCategory.Temporary, "boom"), "attempts exhausted")]);
        var cancelled = await _app.EnqueueAsync("dlq");
        await _app.PostAsync($"/api/v1/jobs/{cancelled}/cancel");

        using var retry = await _app.PostAsync("/api/v1/queues/dlq/dead-letter/retry");
        Assert.Equal(1, (await TestApp.JsonAsync(retry)).GetProperty("retried").GetInt32());
        Assert.Equal(JobState.Ready, (await _app.Store.GetJobAsync(dead))!.State);

        _app.Time.Advance(TimeSpan.FromHours(2));
        using var keepRecent = await _app.SendAsync(HttpMethod.Delete, "/api/v1/queues/dlq/jobs?state=cancelled&olderThan=1d");
        using var delete = await _app.SendAsync(HttpMethod.Delete, "/api/v1/queues/dlq/jobs?state=cancelled&olderThan=1h");
        Assert.Equal(0, (await TestApp.JsonAsync(keepRecent)).GetProperty("deleted").GetInt32());
        Assert.Equal(1, (await TestApp.JsonAsync(delete)).GetProperty("deleted").GetInt32());
        Assert.Null(await _app.Store.GetJobAsync(cancelled));
    }

    [Fact]
    public async Task Stalled_jobs_are_listed_and_reclaimed_on_demand_along_with_silent_workers()
    {
        var id = await _app.EnqueueAsync("stall");
        await _app.Store.RegisterWorkerAsync(new WorkerRegistration
        {
            Id = "w-dead", Name = "dead", Host = "h", ProcessId = 1, Queues = ["stall"], Concurrency = 1, StartedAt = _app.Time.GetUtcNow(),
        });
        await _app.Store.LeaseAsync(new LeaseRequest("w-dead", ["stall"], 1, TimeSpan.FromSeconds(10)));
        _app.Time.Advance(TimeSpan.FromSeconds(30));

        using var workers = await _app.GetAsync("/api/v1/workers");
        using var stalled = await _app.GetAsync("/api/v1/stalled");
        using var reclaim = await _app.PostAsync("/api/v1/maintenance/reclaim-stalled");

        Assert.Equal("w-dead", (await TestApp.JsonAsync(workers)).GetProperty("workers")[0].GetProperty("id").GetString());
        Assert.Equal(id, (await TestApp.JsonAsync(stalled)).GetProperty("jobs")[0].GetProperty("id").GetInt64());
        var result = await TestApp.JsonAsync(reclaim);
        Assert.Equal(id, result.GetProperty("reclaimed")[0].GetInt64());
        Assert.Equal("w-dead", result.GetProperty("dead_workers")[0].GetString());
        Assert.Equal(JobState.Ready, (await _app.Store.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task Circuit_breakers_are_opened_listed_explained_and_closed_in_the_store_without_a_worker_in_the_process()
    {
        var id = await _app.EnqueueAsync(type: "email.send");

        using (var open = await _app.PostAsync("/api/v1/circuit-breakers/email.send/open"))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
            var breaker = await TestApp.JsonAsync(open);
            Assert.Equal(("email.send", "open", true), (breaker.GetProperty("type").GetString(), breaker.GetProperty("state").GetString(), breaker.GetProperty("manual").GetBoolean()));
        }

        var stored = Assert.Single(await _app.Store.ListCircuitsAsync());
        Assert.Equal(("email.send", true), (stored.Type, stored.Manual));
        using (var list = await _app.GetAsync("/api/v1/circuit-breakers"))
        {
            Assert.Equal("email.send", Assert.Single((await TestApp.JsonAsync(list)).GetProperty("types").EnumerateArray()).GetProperty("type").GetString());
        }

        var explain = await ExplainAsync(id);
        var reason = explain.GetProperty("reasons").EnumerateArray().Single(r => r.GetProperty("code").GetString() == "circuit_open");
        Assert.Contains("opened by hand for the whole fleet", reason.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using (var close = await _app.PostAsync("/api/v1/circuit-breakers/email.send/close"))
        {
            Assert.True((await TestApp.JsonAsync(close)).GetProperty("was_open").GetBoolean());
        }

        using (var again = await _app.PostAsync("/api/v1/circuit-breakers/email.send/close"))
        {
            Assert.False((await TestApp.JsonAsync(again)).GetProperty("was_open").GetBoolean());
        }

        Assert.Empty(await _app.Store.ListCircuitsAsync());
        Assert.DoesNotContain((await ExplainAsync(id)).GetProperty("reasons").EnumerateArray(), r => r.GetProperty("code").GetString() == "circuit_open");
    }

    [Fact]
    public async Task The_openapi_document_lists_every_route_of_the_api()
    {
        using var response = await _app.GetAsync("/api/v1/openapi.json");

        var paths = (await TestApp.JsonAsync(response)).GetProperty("paths");
        foreach (var (path, method) in new[]
        {
            ("/api/v1/jobs", "post"), ("/api/v1/jobs", "get"), ("/api/v1/jobs/{id}", "get"), ("/api/v1/jobs/{id}/cancel", "post"),
            ("/api/v1/jobs/{id}/retry", "post"), ("/api/v1/jobs/{id}/explain", "get"), ("/api/v1/queues", "get"), ("/api/v1/queues/{queue}", "get"),
            ("/api/v1/queues/{queue}/pause", "post"), ("/api/v1/queues/{queue}/resume", "post"), ("/api/v1/queues/{queue}/dead-letter/retry", "post"),
            ("/api/v1/queues/{queue}/jobs", "delete"), ("/api/v1/workers", "get"), ("/api/v1/stalled", "get"),
            ("/api/v1/maintenance/reclaim-stalled", "post"), ("/api/v1/circuit-breakers/{type}/open", "post"), ("/api/v1/circuit-breakers/{type}/close", "post"),
        })
        {
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method} {path} missing");
        }
    }

    private async Task<JsonElement> ExplainAsync(long id)
    {
        using var response = await _app.GetAsync($"/api/v1/jobs/{id}/explain");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await TestApp.JsonAsync(response);
    }
}
