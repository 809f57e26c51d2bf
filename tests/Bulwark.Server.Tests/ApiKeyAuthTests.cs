using System.Net;

namespace Bulwark.Server.Tests;

public sealed class ApiKeyAuthTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(withKeys: true);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("GET", "/api/v1/queues")]
    [InlineData("GET", "/api/v1/jobs")]
    [InlineData("POST", "/api/v1/queues/default/pause")]
    [InlineData("GET", "/health/detailed")]
    public async Task A_request_without_a_key_is_refused_with_401(string method, string path)
    {
        using var response = await _app.SendAsync(new HttpMethod(method), path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("X-API-Key", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_key_is_refused_with_401()
    {
        using var response = await _app.GetAsync("/api/v1/queues", key: "not-a-key");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_read_key_may_read()
    {
        using var response = await _app.GetAsync("/api/v1/queues", key: TestApp.ReadKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_read_key_on_a_mutation_is_refused_with_403_and_nothing_is_stored()
    {
        using var response = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop"}""", TestApp.ReadKey);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("admin key", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task An_admin_key_may_enqueue_and_pause()
    {
        using var enqueue = await _app.PostAsync("/api/v1/jobs", """{"queue":"default","type":"demo.noop"}""", TestApp.AdminKey);
        using var pause = await _app.PostAsync("/api/v1/queues/default/pause", key: TestApp.AdminKey);

        Assert.Equal(HttpStatusCode.Created, enqueue.StatusCode);
        Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        Assert.True((await _app.Store.GetQueuesAsync()).Single(q => q.Queue == "default").Paused);
    }

    [Fact]
    public async Task Liveness_and_readiness_need_no_key_so_probes_work()
    {
        using var live = await _app.GetAsync("/health/live");
        using var ready = await _app.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
