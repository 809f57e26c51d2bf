using System.Net;
using System.Text.Json;
using Bulwark.Scheduling;
using Bulwark.Storage;

namespace Bulwark.Server.Tests;

public sealed class QueueLimitApiTests : IAsyncLifetime
{
    private ControlApp _app = null!;

    public async Task InitializeAsync() => _app = await ControlApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task PUT_sets_limits_shown_by_GET_queue_even_before_the_queue_has_jobs()
    {
        using var put = await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":2.5,"concurrency_limit":3}""");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(new QueueLimits { RatePerSecond = 2.5, MaxRunning = 3 }, (await _app.Store.GetQueueLimitsAsync())["email"]);
        using var get = await _app.SendAsync(HttpMethod.Get, "/queues/email", key: TestApp.ReadKey);
        var queue = await ControlApp.JsonAsync(get);
        Assert.Equal((2.5, 3), (queue.GetProperty("rate_limit").GetDouble(), queue.GetProperty("concurrency_limit").GetInt32()));
        using var list = await _app.SendAsync(HttpMethod.Get, "/queues", key: TestApp.ReadKey);
        var listed = Assert.Single((await ControlApp.JsonAsync(list)).GetProperty("queues").EnumerateArray(), q => q.GetProperty("name").GetString() == "email");
        Assert.Equal(3, listed.GetProperty("concurrency_limit").GetInt32());
    }

    [Fact]
    public async Task A_field_left_out_is_kept_and_null_clears_it()
    {
        (await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":5,"concurrency_limit":3}""")).Dispose();

        (await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"concurrency_limit":null}""")).Dispose();
        Assert.Equal(new QueueLimits { RatePerSecond = 5 }, (await _app.Store.GetQueueLimitsAsync())["email"]);

        using var cleared = await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":null}""");
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.False((await _app.Store.GetQueueLimitsAsync()).ContainsKey("email"));
        // The store may still know the queue (it had limits); either way no limit is shown.
        using var get = await _app.SendAsync(HttpMethod.Get, "/queues/email", key: TestApp.ReadKey);
        var text = await get.Content.ReadAsStringAsync();
        Assert.True(get.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, text);
        Assert.DoesNotContain("rate_limit", text, StringComparison.Ordinal);
        Assert.DoesNotContain("concurrency_limit", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("email", """{"rate_limit":0}""", "must be more than 0")]
    [InlineData("email", """{"rate_limit":-2}""", "must be more than 0")]
    [InlineData("email", """{"rate_limit":1000000}""", "at most 100000")]
    [InlineData("email", """{"rate_limit":"fast"}""", "\"rate_limit\" must be a number")]
    [InlineData("email", """{"concurrency_limit":0}""", "at least 1")]
    [InlineData("email", """{"concurrency_limit":1.5}""", "\"concurrency_limit\" must be a whole number")]
    [InlineData("email", """{"rate":5}""", "Unknown field \"rate\"")]
    [InlineData("email", """{}""", "either field or both")]
    [InlineData("Bad Queue", """{"rate_limit":5}""", "queue")]
    public async Task Bad_limits_are_a_400_and_the_stored_limits_stay(string queue, string body, string expected)
    {
        (await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":7}""")).Dispose();

        using var response = await _app.SendAsync(HttpMethod.Put, $"/queues/{Uri.EscapeDataString(queue)}/limits", body);

        await ControlApp.AssertProblemAsync(response, HttpStatusCode.BadRequest, expected);
        var limits = await _app.Store.GetQueueLimitsAsync();
        Assert.Equal(new QueueLimits { RatePerSecond = 7 }, Assert.Single(limits).Value);
    }

    [Fact]
    public async Task A_read_key_cannot_set_limits()
    {
        using var response = await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":5}""", TestApp.ReadKey);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await _app.Store.GetQueueLimitsAsync());
    }

    [Fact]
    public async Task Explain_reports_a_reached_concurrency_limit_and_a_paused_queue()
    {
        (await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"concurrency_limit":1}""")).Dispose();
        var ids = await EnqueueAsync("email", 2);
        Assert.Single(await _app.Store.LeaseAsync(new LeaseRequest("w1", ["email"], 5, TimeSpan.FromSeconds(30))));
        var running = (await _app.Store.ListJobsAsync(new JobListQuery("email", Jobs.JobState.Running))).Items.Single().Id;
        var waiting = ids.Single(id => id != running);

        var limited = await ExplainAsync(waiting);
        Assert.False(limited.GetProperty("runnable").GetBoolean());
        Assert.Contains("concurrency_limit_reached", Codes(limited));
        Assert.Contains("its concurrency limit of 1", limited.GetProperty("summary").GetString(), StringComparison.Ordinal);

        (await _app.SendAsync(HttpMethod.Post, "/queues/email/pause")).Dispose();
        Assert.Contains("queue_paused", Codes(await ExplainAsync(waiting)));
    }

    [Fact]
    public async Task Explain_reports_a_rate_limit_that_binds_and_not_one_that_does_not()
    {
        (await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":2}""")).Dispose();
        var ids = await EnqueueAsync("email", 5);

        var limited = await ExplainAsync(ids[^1]);
        Assert.Contains("rate_limit_reached", Codes(limited));
        Assert.False(limited.GetProperty("runnable").GetBoolean());

        (await _app.SendAsync(HttpMethod.Put, "/queues/email/limits", """{"rate_limit":50}""")).Dispose();
        Assert.DoesNotContain("rate_limit_reached", Codes(await ExplainAsync(ids[^1])));
    }

    private async Task<long[]> EnqueueAsync(string queue, int count)
    {
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            using var response = await _app.SendAsync(HttpMethod.Post, "/jobs", $$"""{"queue":"{{queue}}","type":"demo.noop"}""");
            ids[i] = (await ControlApp.JsonAsync(response)).GetProperty("id").GetInt64();
        }

        return ids;
    }

    private async Task<JsonElement> ExplainAsync(long id)
    {
        using var response = await _app.SendAsync(HttpMethod.Get, $"/jobs/{id}/explain", key: TestApp.ReadKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ControlApp.JsonAsync(response);
    }

    private static string[] Codes(JsonElement explanation) =>
        explanation.GetProperty("reasons").EnumerateArray().Select(r => r.GetProperty("code").GetString()!).ToArray();
}
