using System.Net;
using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Server.Tests;

public sealed class FlowApiTests : IAsyncLifetime
{
    private ControlApp _app = null!;

    public async Task InitializeAsync() => _app = await ControlApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_diamond_flow_is_stored_with_its_edges_and_answers_each_id_by_its_node_name()
    {
        // Listed children first: the server sorts the nodes; names keep their case (no snake_case renaming).
        using var response = await _app.SendAsync(HttpMethod.Post, "/flows", """
            {"nodes":[
              {"name":"embedAll","queue":"docs","type":"doc.embed","depends_on":["ocr","thumb"],"priority":5,"lifetime":"1h"},
              {"name":"ocr","queue":"docs","type":"doc.ocr","depends_on":["extract"],"payload":{"lang":"fr"}},
              {"name":"thumb","queue":"docs","type":"doc.thumb","depends_on":["extract"]},
              {"name":"extract","queue":"docs","type":"doc.extract","payload":{"file":"a.pdf"},"max_attempts":5}
            ]}
            """);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var ids = (await ControlApp.JsonAsync(response)).GetProperty("ids");
        long Id(string name) => ids.GetProperty(name).GetInt64();
        var extract = (await _app.Store.GetJobAsync(Id("extract")))!;
        var ocr = (await _app.Store.GetJobAsync(Id("ocr")))!;
        var thumb = (await _app.Store.GetJobAsync(Id("thumb")))!;
        var embed = (await _app.Store.GetJobAsync(Id("embedAll")))!;
        Assert.Equal((JobState.Ready, 5, """{"file":"a.pdf"}"""), (extract.State, extract.MaxAttempts, extract.Payload));
        Assert.Equal([extract.Id], ocr.DependsOn);
        Assert.Equal([extract.Id], thumb.DependsOn);
        Assert.Equal([ocr.Id, thumb.Id], embed.DependsOn.Order());
        Assert.All([ocr, thumb, embed], j => Assert.Equal(JobState.Pending, j.State));
        Assert.Equal((5, _app.Time.GetUtcNow().AddHours(1)), (embed.Priority, embed.ExpiresAt));
        Assert.Equal(4, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_cycle_is_refused_with_the_cycle_spelled_out_and_nothing_is_stored()
    {
        using var response = await _app.SendAsync(HttpMethod.Post, "/flows", """
            {"nodes":[{"name":"start","type":"t"},{"name":"a","type":"t","depends_on":["start","b"]},{"name":"b","type":"t","depends_on":["a"]}]}
            """);

        await ControlApp.AssertProblemAsync(response, HttpStatusCode.BadRequest, "dependency cycle: a → b → a");
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Theory]
    [InlineData("""{"nodes":[{"name":"ocr","type":"t","depends_on":["extrakt"]},{"name":"extract","type":"t"}]}""", "Node 'ocr' depends on 'extrakt', which is not a node of this flow (nodes: ocr, extract)")]
    [InlineData("""{"nodes":[{"name":"a","type":"t","depends_on":["a"]}]}""", "depends on itself (a → a)")]
    [InlineData("""{"nodes":[{"name":"a","type":"t"},{"name":"a","type":"t"}]}""", "already has a node named 'a'")]
    [InlineData("""{"nodes":[{"name":"has space","type":"t"}]}""", "not a valid node name")]
    [InlineData("""{"nodes":[{"type":"t"}]}""", "nodes[0]: \"name\" is missing")]
    [InlineData("""{"nodes":[{"name":"a"}]}""", "Node 'a': \"type\" is missing")]
    [InlineData("""{"nodes":[{"name":"a","type":"t"},{"name":"b","type":"t","max_attempts":0}]}""", "Flow node 'b': max_attempts must be between")]
    [InlineData("""{"nodes":[{"name":"a","type":"t","queue":"Bad Queue"}]}""", "Flow node 'a':")]
    [InlineData("""{"nodes":[{"name":"a","type":"t","depends_on":[12]}]}""", "which is not a node name")]
    [InlineData("""{"nodes":[{"name":"a","type":"t","dealy":"5s"}]}""", "unknown field \"dealy\"")]
    [InlineData("""{"nodes":[{"name":"a","type":"t","delay":"soon"}]}""", "\"delay\" must be a duration")]
    [InlineData("""{"nodes":[]}""", "non-empty array")]
    [InlineData("""{"jobs":[{"type":"t"}]}""", "with \"nodes\"")]
    [InlineData("""{"nodes":[{"name":"a","type":"t"}],"extra":1}""", "holds only \"nodes\"")]
    public async Task A_bad_flow_is_a_400_naming_the_node_and_nothing_is_stored(string body, string expected)
    {
        using var response = await _app.SendAsync(HttpMethod.Post, "/flows", body);

        await ControlApp.AssertProblemAsync(response, HttpStatusCode.BadRequest, expected);
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_read_key_cannot_submit_a_flow()
    {
        using var response = await _app.SendAsync(HttpMethod.Post, "/flows", """{"nodes":[{"name":"a","type":"t"}]}""", TestApp.ReadKey);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await _app.StoredJobsAsync());
    }

    [Fact]
    public async Task A_running_jobs_progress_and_checkpoint_show_in_GET_jobs_id()
    {
        using var submitted = await _app.SendAsync(HttpMethod.Post, "/flows", """{"nodes":[{"name":"steps","queue":"long","type":"demo.steps"}]}""");
        var id = (await ControlApp.JsonAsync(submitted)).GetProperty("ids").GetProperty("steps").GetInt64();
        var leased = Assert.Single(await _app.Store.LeaseAsync(new LeaseRequest("w1", ["long"], 1, TimeSpan.FromSeconds(30))));
        Assert.Equal(FenceResult.Ok, await _app.Store.SaveProgressAsync(leased.Token, 40, """{"step":2}"""));

        using var response = await _app.SendAsync(HttpMethod.Get, $"/jobs/{id}", key: TestApp.ReadKey);

        var job = await ControlApp.JsonAsync(response);
        Assert.Equal(("running", 40), (job.GetProperty("state").GetString(), job.GetProperty("progress").GetInt32()));
        Assert.Equal(2, job.GetProperty("checkpoint").GetProperty("step").GetInt32());
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_the_flow_recurring_and_limit_routes()
    {
        using var response = await _app.SendAsync(HttpMethod.Get, "/openapi.json", key: TestApp.ReadKey);

        var paths = (await ControlApp.JsonAsync(response)).GetProperty("paths");
        Assert.True(paths.GetProperty("/api/v1/flows").TryGetProperty("post", out var post));
        Assert.True(post.GetProperty("responses").TryGetProperty("201", out _));
        Assert.True(paths.GetProperty("/api/v1/recurring").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/v1/recurring/{name}").TryGetProperty("put", out _));
        Assert.True(paths.GetProperty("/api/v1/recurring/{name}").TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/api/v1/queues/{queue}/limits").TryGetProperty("put", out _));
    }
}
