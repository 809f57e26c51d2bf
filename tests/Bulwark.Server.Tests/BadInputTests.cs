using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Bulwark.Server.Tests;

public sealed class BadInputTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("", "body is empty")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("""{"queue":"Bad Queue!","type":"demo.noop"}""", "not a valid queue name")]
    [InlineData("""{"queue":"default"}""", "\"type\" is missing")]
    [InlineData("""{"queue":"default","type":"demo.noop","priority":"high"}""", "\"priority\" must be a whole number")]
    [InlineData("""{"queue":"default","type":"demo.noop","priority":1.5}""", "\"priority\" must be a whole number")]
    [InlineData("""{"queue":42,"type":"demo.noop"}""", "\"queue\" must be a string")]
    [InlineData("""{"queue":"default","type":"demo.noop","delay":"soon"}""", "\"delay\" must be a duration")]
    [InlineData("""{"queue":"default","type":"demo.noop","delay":"5s","run_at":"2026-01-01T00:00:00Z"}""", "either \"delay\" or \"run_at\"")]
    [InlineData("""{"queue":"default","type":"demo.noop","run_at":"tomorrow"}""", "ISO 8601")]
    [InlineData("""{"queue":"default","type":"demo.noop","max_attempts":0}""", "max_attempts must be between")]
    [InlineData("""{"queue":"default","type":"demo.noop","timeout":"0s"}""", "timeout must be positive")]
    [InlineData("""{"queue":"default","type":"demo.noop","backoff":"sometimes"}""", "backoff")]
    [InlineData("""{"queue":"default","type":"demo.noop","depends_on":[-1]}""", "not a job id")]
    [InlineData("""{"queue":"default","type":"demo.noop","depends_on":"7"}""", "must be an array")]
    [InlineData("""{"queue":"default","type":"demo.noop","dealy":"5s"}""", "unknown field \"dealy\"")]
    [InlineData("""{"jobs":[]}""", "is empty")]
    [InlineData("""{"jobs":{}}""", "must be an array")]
    [InlineData("""{"jobs":[{"queue":"default","type":"demo.noop"},{"queue":"default","type":""}]}""", "jobs[1]")]
    public async Task A_bad_enqueue_is_a_400_problem_and_stores_nothing(string body, string expected)
    {
        using var response = await _app.PostAsync("/api/v1/jobs", body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, expected);
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    // BAD marks where the body holds invalid UTF-8 (0xFF never occurs in UTF-8; 0xC3 0x28 is a lead byte without its
    // continuation); LONE is the escape of a lone surrogate. The parser accepts both and only fails when the string is
    // read, which is where the 500 came from.
    [Theory]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"deBADfault","type":"demo.noop"}""", "queue")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.BAD"}""", "type")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","key":"order-BAD"}""", "key")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","key":"order-LONE"}""", "key")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","payload":{"to":["a@b.c","BAD"]}}""", "payload.to[1]")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","payload":{"text":"hi LONE"}}""", "payload.text")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","payload":"LONE"}""", "payload")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","payload":{"nBADme":1}}""", "payload (a property name)")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","backoff":"fixed(LONE)"}""", "backoff")]
    [InlineData("POST", "/api/v1/jobs", """{"queue":"default","type":"demo.noop","trace_parent":"BAD"}""", "trace_parent")]
    [InlineData("POST", "/api/v1/jobs", """{"jobs":[{"queue":"default","type":"demo.noop"},{"queue":"default","type":"demo.noop","payload":{"x":"BAD"}}]}""", "jobs[1].payload.x")]
    [InlineData("POST", "/api/v1/jobs", """{"queLONEue":"default","type":"demo.noop"}""", "(a property name)")]
    [InlineData("POST", "/api/v1/jobs", "[\"BAD\"]", "[0]")]
    [InlineData("POST", "/api/v1/jobs", "\"LONE\"", "(the body)")]
    [InlineData("POST", "/api/v1/flows", """{"nodes":[{"name":"exBADtract","type":"doc.extract"}]}""", "nodes[0].name")]
    [InlineData("POST", "/api/v1/flows", """{"nodes":[{"name":"a","type":"t"},{"name":"b","type":"t","depends_on":["LONE"]}]}""", "nodes[1].depends_on[0]")]
    [InlineData("POST", "/api/v1/flows", """{"nodes":[{"name":"a","type":"t","payload":{"p":"BAD"}}]}""", "nodes[0].payload.p")]
    [InlineData("PUT", "/api/v1/recurring/nightly", """{"cron":"0 0 2 * * *","queue":"reports","type":"report.BAD"}""", "type")]
    [InlineData("PUT", "/api/v1/recurring/nightly", """{"cron":"0 0 2 * * *","time_zone":"Europe/LONE","queue":"reports","type":"report.build"}""", "time_zone")]
    [InlineData("PUT", "/api/v1/recurring/nightly", """{"cron":"0 0 2 * * *","queue":"reports","type":"report.build","payload":{"k":"LONE"}}""", "payload.k")]
    [InlineData("PUT", "/api/v1/queues/email/limits", """{"rate_limit":"BAD"}""", "rate_limit")]
    [InlineData("PUT", "/api/v1/queues/email/limits", """{"rate_limitLONE":5}""", "(a property name)")]
    public async Task Text_that_is_not_valid_unicode_is_a_400_naming_the_field_and_stores_nothing(string method, string path, string body, string field)
    {
        // The control app's store keeps recurring jobs and queue limits, so every endpoint with a body is reached.
        await using var app = await ControlApp.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent(WithBadText(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-API-Key", TestApp.AdminKey);

        using var response = await app.Client.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "not valid Unicode");
        var problem = await TestApp.JsonAsync(response);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(0, await app.StoredJobsAsync());
        Assert.Empty(await app.Store.ListRecurringAsync());
        Assert.Empty(await app.Store.GetQueueLimitsAsync());
    }

    [Fact]
    public async Task Escaped_surrogate_pairs_and_raw_UTF8_beyond_the_BMP_are_accepted()
    {
        var id = await _app.EnqueueAsync(payload: """{"escaped":"\ud83d\ude00","raw":"😀"}""");

        var job = await _app.Store.GetJobAsync(id);
        Assert.Equal("😀😀", string.Concat(JsonDocument.Parse(job!.Payload).RootElement.EnumerateObject().Select(p => p.Value.GetString())));
    }

    private static byte[] WithBadText(string body)
    {
        byte[] bad = [0xC3, 0x28, 0xFF];
        var parts = body.Replace("LONE", "\\ud800", StringComparison.Ordinal).Split("BAD").Select(Encoding.UTF8.GetBytes);
        return parts.Aggregate((joined, next) => [.. joined, .. bad, .. next]);
    }

    [Fact]
    public async Task A_dependency_on_an_unknown_job_is_refused_and_the_batch_stores_nothing()
    {
        using var response = await _app.PostAsync("/api/v1/jobs", """{"jobs":[{"queue":"default","type":"demo.noop"},{"queue":"default","type":"demo.noop","depends_on":[999]}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_a_415_problem()
    {
        using var response = await _app.SendAsync(HttpMethod.Post, "/api/v1/jobs", "queue=default", contentType: "application/x-www-form-urlencoded");

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "application/json");
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("/api/v1/jobs/abc", HttpStatusCode.BadRequest, "not a job id")]
    [InlineData("/api/v1/jobs/0", HttpStatusCode.BadRequest, "not a job id")]
    [InlineData("/api/v1/jobs/12345", HttpStatusCode.NotFound, "no job 12345")]
    [InlineData("/api/v1/jobs/12345/explain", HttpStatusCode.NotFound, "no job 12345")]
    [InlineData("/api/v1/jobs?limit=0", HttpStatusCode.BadRequest, "from 1 to 1000")]
    [InlineData("/api/v1/jobs?limit=-5", HttpStatusCode.BadRequest, "from 1 to 1000")]
    [InlineData("/api/v1/jobs?limit=5000", HttpStatusCode.BadRequest, "from 1 to 1000")]
    [InlineData("/api/v1/jobs?limit=ten", HttpStatusCode.BadRequest, "from 1 to 1000")]
    [InlineData("/api/v1/jobs?cursor=xyz", HttpStatusCode.BadRequest, "next_cursor")]
    [InlineData("/api/v1/jobs?cursor=-3", HttpStatusCode.BadRequest, "next_cursor")]
    [InlineData("/api/v1/jobs?state=sleeping", HttpStatusCode.BadRequest, "not a job state")]
    [InlineData("/api/v1/jobs?queue=UPPER", HttpStatusCode.BadRequest, "not a valid queue name")]
    [InlineData("/api/v1/queues/no%20such", HttpStatusCode.BadRequest, "not a valid queue name")]
    [InlineData("/api/v1/queues/never-used", HttpStatusCode.NotFound, "GET /queues")]
    [InlineData("/api/v1/stalled?limit=0", HttpStatusCode.BadRequest, "from 1 to 1000")]
    [InlineData("/api/v1/no-such-route", HttpStatusCode.NotFound, "openapi.json")]
    public async Task A_bad_read_is_a_4xx_problem(string path, HttpStatusCode status, string expected)
    {
        using var response = await _app.GetAsync(path);

        await AssertProblemAsync(response, status, expected);
    }

    [Theory]
    [InlineData("POST", "/api/v1/jobs/99/cancel", HttpStatusCode.NotFound)]
    [InlineData("POST", "/api/v1/jobs/99/retry", HttpStatusCode.NotFound)]
    [InlineData("POST", "/api/v1/jobs/x/retry", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/v1/queues/Bad!/pause", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/v1/queues/Bad!/dead-letter/retry", HttpStatusCode.BadRequest)]
    [InlineData("DELETE", "/api/v1/queues/default/jobs", HttpStatusCode.BadRequest)]
    [InlineData("DELETE", "/api/v1/queues/default/jobs?state=running", HttpStatusCode.BadRequest)]
    [InlineData("DELETE", "/api/v1/queues/default/jobs?state=done", HttpStatusCode.BadRequest)]
    [InlineData("DELETE", "/api/v1/queues/default/jobs?state=completed&olderThan=a-while", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/v1/circuit-breakers/bad type!/open", HttpStatusCode.BadRequest)]
    public async Task A_bad_admin_action_is_a_4xx_problem_and_changes_nothing(string method, string path, HttpStatusCode status)
    {
        await _app.EnqueueAsync();

        using var response = await _app.SendAsync(new HttpMethod(method), path);

        await AssertProblemAsync(response, status, "");
        Assert.Equal(1, await _app.StoredJobsAsync());
        Assert.DoesNotContain(await _app.Store.GetQueuesAsync(), q => q.Paused);
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString() ?? "";
        Assert.Contains(expected, detail, StringComparison.OrdinalIgnoreCase);
    }
}
