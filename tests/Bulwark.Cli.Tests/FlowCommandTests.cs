using System.Text.Json;

namespace Bulwark.Cli.Tests;

public sealed class FlowCommandTests : IDisposable
{
    private const string Diamond = """
        {"nodes":[
          {"name":"embed","queue":"docs","type":"doc.embed","depends_on":["ocr","thumb"],"priority":5},
          {"name":"ocr","queue":"docs","type":"doc.ocr","depends_on":["extract"]},
          {"name":"thumb","queue":"docs","type":"doc.thumb","depends_on":["extract"]},
          {"name":"extract","queue":"docs","type":"doc.extract","payload":{"file":"a.pdf"}}
        ]}
        """;

    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Flow_submit_prints_each_node_with_its_job_id_parents_first_and_stores_the_edges()
    {
        var file = Write("diamond.json", Diamond);

        var result = await _cli.RunAsync("flow", "submit", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.Lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(c => c[0], c => long.Parse(c[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["extract", "ocr", "thumb", "embed"], result.Lines.Skip(1).Select(l => l.Split(' ')[0]));
        var embed = await _cli.JsonAsync("jobs", "show", rows["embed"].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal([rows["ocr"], rows["thumb"]], embed.GetProperty("depends_on").EnumerateArray().Select(e => e.GetInt64()).Order());
        Assert.Equal(("pending", 5), (embed.GetProperty("state").GetString(), embed.GetProperty("priority").GetInt32()));
        var extract = await _cli.JsonAsync("jobs", "show", rows["extract"].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("ready", extract.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Flow_submit_json_prints_the_ids_by_name()
    {
        var ids = (await _cli.JsonAsync("flow", "submit", Write("diamond.json", Diamond))).GetProperty("ids");

        Assert.Equal(["embed", "extract", "ocr", "thumb"], ids.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(4, await _cli.CountJobsAsync());
    }

    [Theory]
    [InlineData("""{"nodes":[{"name":"a","type":"t","depends_on":["b"]},{"name":"b","type":"t","depends_on":["a"]}]}""", "dependency cycle: a → b → a")]
    [InlineData("""{"nodes":[{"name":"ocr","type":"t","depends_on":["extrakt"]}]}""", "depends on 'extrakt', which is not a node of this flow")]
    [InlineData("""{"nodes":[{"name":"a","type":"t","max_attempts":0}]}""", "Flow node 'a': max_attempts")]
    [InlineData("""{"nodes":[""", "is not valid JSON")]
    [InlineData("""{"nodes":[]}""", "non-empty array")]
    public async Task A_bad_flow_file_exits_2_saying_what_to_change_and_stores_nothing(string json, string expected)
    {
        await _cli.RunAsync("enqueue", "default", "demo.noop");

        var result = await _cli.RunAsync("flow", "submit", Write("flow.json", json));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, await _cli.CountJobsAsync());
    }

    [Fact]
    public async Task A_missing_flow_file_exits_2_naming_it()
    {
        var result = await _cli.RunAsync("flow", "submit", "nowhere.json");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("There is no file", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.StorePath));
    }

    [Fact]
    public async Task Flow_submit_through_a_server_stores_the_flow_and_a_cycle_is_refused_by_it()
    {
        await using var serve = await ServeForCli.StartAsync(_cli);

        var result = await _cli.RunRawAsync(["flow", "submit", Write("diamond.json", Diamond), "--url", serve.Url, "--json"]);
        Assert.True(result.ExitCode == 0, result + serve.Output);
        var ids = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("ids");
        Assert.Equal(4, ids.EnumerateObject().Count());
        var embed = await _cli.JsonAsync("jobs", "show", ids.GetProperty("embed").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, embed.GetProperty("depends_on").GetArrayLength());

        var cycle = await _cli.RunRawAsync(["flow", "submit", Write("cycle.json", """{"nodes":[{"name":"a","type":"t","depends_on":["a"]}]}"""), "--url", serve.Url]);
        Assert.True(cycle.ExitCode == 2, cycle.ToString());
        Assert.Contains("depends on itself (a → a)", cycle.Stderr, StringComparison.Ordinal);
        Assert.Equal(4, await _cli.CountJobsAsync());
    }

    [Fact]
    public async Task Retrying_a_dependent_of_a_cancelled_parent_is_refused_naming_the_parent_on_the_store_and_through_a_server()
    {
        var parent = (await _cli.RunAsync("enqueue", "docs", "demo.noop")).Lines.Single();
        var child = (await _cli.RunAsync("enqueue", "docs", "demo.noop", "--depends-on", parent)).Lines.Single();
        Assert.True((await _cli.RunAsync("jobs", "cancel", parent)).ExitCode == 0);

        var refused = await _cli.RunAsync("jobs", "retry", child);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains($"depends on job {parent}, which ended cancelled", refused.Stderr, StringComparison.Ordinal);

        await using (var serve = await ServeForCli.StartAsync(_cli))
        {
            var overHttp = await _cli.RunRawAsync(["jobs", "retry", child, "--url", serve.Url]);
            Assert.True(overHttp.ExitCode == 1, overHttp + serve.Output);
            Assert.Contains($"depends on job {parent}, which ended cancelled", overHttp.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal("dead_letter", (await _cli.JsonAsync("jobs", "show", child)).GetProperty("state").GetString());
        Assert.True((await _cli.RunAsync("jobs", "retry", parent)).ExitCode == 0);
        var waiting = await _cli.RunAsync("jobs", "retry", child);
        Assert.True(waiting.ExitCode == 0, waiting.ToString());
        Assert.Contains($"Job {child} is pending again", waiting.Stdout, StringComparison.Ordinal);
    }

    private string Write(string name, string json)
    {
        var path = Path.Combine(_cli.Directory, name);
        File.WriteAllText(path, json);
        return path;
    }
}
