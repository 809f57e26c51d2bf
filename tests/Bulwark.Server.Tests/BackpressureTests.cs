using System.Net;

namespace Bulwark.Server.Tests;

public sealed class BackpressureTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(new Dictionary<string, string?>
    {
        ["Bulwark:Server:Queues:tiny:HardLimit"] = "3",
        ["Bulwark:Server:FullQueueRetryAfter"] = "7s",
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Enqueue_above_the_hard_limit_is_a_429_with_Retry_After_and_stores_nothing()
    {
        for (var i = 0; i < 3; i++)
        {
            await _app.EnqueueAsync("tiny");
        }

        using var response = await _app.PostAsync("/api/v1/jobs", """{"queue":"tiny","type":"demo.noop"}""");

        await BadInputTests.AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "hard limit is 3");
        Assert.Equal("7", response.Headers.RetryAfter?.ToString());
        Assert.Equal(3, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_batch_that_would_pass_the_hard_limit_is_refused_whole()
    {
        await _app.EnqueueAsync("tiny");

        using var response = await _app.PostAsync("/api/v1/jobs",
            """{"jobs":[{"queue":"tiny","type":"demo.noop"},{"queue":"tiny","type":"demo.noop"},{"queue":"tiny","type":"demo.noop"}]}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(1, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task Other_queues_keep_the_default_limit_while_one_is_full()
    {
        for (var i = 0; i < 3; i++)
        {
            await _app.EnqueueAsync("tiny");
        }

        var id = await _app.EnqueueAsync("roomy");

        Assert.True(id > 0);
    }

    [Fact]
    public async Task An_oversized_payload_is_a_413_and_stores_nothing()
    {
        var big = new string('x', 1024 * 1024 + 10);

        using var response = await _app.PostAsync("/api/v1/jobs", $$"""{"queue":"default","type":"demo.noop","payload":"{{big}}"}""");

        await BadInputTests.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "over the limit");
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_request_body_over_the_server_limit_is_a_413_and_stores_nothing()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Bulwark:Server:MaxRequestBytes"] = "2000" });
        var jobs = string.Join(",", Enumerable.Range(0, 50).Select(i => "{\"queue\":\"default\",\"type\":\"demo.noop\",\"payload\":{\"i\":" + i + "}}"));

        using var response = await app.PostAsync("/api/v1/jobs", $$"""{"jobs":[{{jobs}}]}""");

        await BadInputTests.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "request body is over the limit");
        Assert.Equal(0, await app.StoredJobsAsync());
    }
}
