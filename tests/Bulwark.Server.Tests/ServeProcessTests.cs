using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bulwark.Diagnostics;
using Bulwark.TestProcesses;

namespace Bulwark.Server.Tests;

public sealed class ServeProcessTests
{
    [Fact]
    public async Task Bulwark_serve_prints_what_to_try_runs_enqueued_jobs_and_the_counts_move_in_the_api_and_metrics()
    {
        await using var serve = await ServeProcess.StartAsync(new Dictionary<string, string> { ["Bulwark__Server__DepthSampleInterval"] = "200ms" }, "--workers", "2");

        Assert.Contains(serve.Url, serve.Output);
        Assert.Contains("serve.db", serve.Output);
        Assert.Contains("bulwark enqueue", serve.Output);
        Assert.Contains("no API keys configured: listening on loopback only", serve.Output);

        using var enqueue = await serve.Http.PostAsync("/api/v1/jobs", new StringContent("""{"jobs":[{"type":"demo.noop"},{"type":"demo.noop"},{"type":"demo.sleep","payload":{"ms":50}}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, enqueue.StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        long completed = 0;
        await Poll.UntilAsync(async () =>
        {
            var queues = await serve.Http.GetFromJsonAsync<JsonElement>("/api/v1/queues");
            completed = queues.GetProperty("queues").EnumerateArray().Where(q => q.GetProperty("name").GetString() == "default")
                .Sum(q => q.GetProperty("counts").GetProperty("completed").GetInt64());
            return completed >= 3;
        }, TimeSpan.FromSeconds(30), () => $"{completed} of 3 jobs completed\n{serve.Output}");

        Assert.Equal(3, completed);
        // Queue depth is sampled from the store every 200 ms here: wait for the first sample that saw the queue.
        string metrics;
        do
        {
            metrics = await serve.Http.GetStringAsync("/metrics");
        }
        while (!metrics.Contains("bulwark_queue_depth{", StringComparison.Ordinal) && DateTime.UtcNow < deadline && await Delay());
        Assert.Contains("bulwark_jobs_completed_total{", metrics);
        Assert.Contains("bulwark_jobs_enqueued_total{", metrics);
        foreach (var name in Telemetry.PrometheusNames.Except(["bulwark_jobs_failed_total", "bulwark_jobs_retried_total", "bulwark_jobs_dead_lettered_total"]))
        {
            Assert.Contains(name, metrics);
        }

        using var ready = await serve.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    [Fact]
    public async Task Bulwark_serve_with_api_keys_refuses_requests_without_one()
    {
        var keys = new Dictionary<string, string> { ["Bulwark__Server__AdminKeys__0"] = "process-admin-key", ["Bulwark__Server__ReadKeys__0"] = "process-read-key" };
        await using var serve = await ServeProcess.StartAsync(keys, "--workers", "0");

        using var none = await serve.Http.GetAsync("/api/v1/queues");
        using var read = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queues/default/pause");
        read.Headers.Add("X-API-Key", "process-read-key");
        using var readMutation = await serve.Http.SendAsync(read);
        using var admin = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queues/default/pause");
        admin.Headers.Add("X-API-Key", "process-admin-key");
        using var adminMutation = await serve.Http.SendAsync(admin);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, readMutation.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminMutation.StatusCode);
        Assert.DoesNotContain("process-admin-key", serve.Output);
        Assert.DoesNotContain("process-read-key", serve.Output);
    }

    [Fact]
    public async Task Bulwark_serve_without_keys_refuses_a_non_loopback_address_and_says_why()
    {
        var folder = Directory.CreateTempSubdirectory("bulwark-serve-").FullName;
        try
        {
            using var process = ServeProcess.Start(folder, null, "serve", "--urls", $"http://0.0.0.0:{ServeProcess.FreePort()}", "--workers", "0");
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            Assert.Equal(2, process.ExitCode);
            Assert.Contains("no API keys configured", await stderr);
            Assert.False(File.Exists(Path.Combine(folder, "bulwark.db")), "the refused server must not have created a store");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_cli_enqueues_lists_and_pauses_through_a_live_server_with_an_admin_key()
    {
        var keys = new Dictionary<string, string> { ["Bulwark__Server__AdminKeys__0"] = "cli-admin-key" };
        await using var serve = await ServeProcess.StartAsync(keys, "--workers", "0");
        var env = new Dictionary<string, string> { ["BULWARK_URL"] = serve.Url, ["BULWARK_API_KEY"] = "cli-admin-key" };

        var (enqueueCode, enqueueOut, _) = await RunCliAsync(serve.Folder, env, "enqueue", "mail", "demo.noop", "--payload", "{\"to\":\"x\"}");
        var (pauseCode, _, _) = await RunCliAsync(serve.Folder, env, "pause", "mail");
        var (queuesCode, queuesOut, _) = await RunCliAsync(serve.Folder, env, "queues", "--json");
        var (badCode, _, badErr) = await RunCliAsync(serve.Folder, new Dictionary<string, string> { ["BULWARK_URL"] = serve.Url, ["BULWARK_API_KEY"] = "wrong" }, "queues");

        Assert.Equal(0, enqueueCode);
        var id = long.Parse(enqueueOut.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var job = await serve.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/{id}") { Headers = { { "X-API-Key", "cli-admin-key" } } });
        Assert.Equal("x", (await job.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("payload").GetProperty("to").GetString());
        Assert.Equal(0, pauseCode);
        Assert.Equal(0, queuesCode);
        Assert.Contains("mail", queuesOut);
        Assert.Contains("true", queuesOut);
        Assert.Equal(1, badCode);
        Assert.Contains("401", badErr);
        Assert.DoesNotContain("cli-admin-key", serve.Output);
    }

    [Fact]
    public async Task The_servers_metrics_count_the_fleets_workers_from_the_registry_and_a_killed_one_moves_to_dead()
    {
        await using var serve = await ServeProcess.StartAsync(new Dictionary<string, string>
        {
            ["Bulwark__Server__DepthSampleInterval"] = "200ms",
            ["Bulwark__Maintenance__WorkerDeadAfter"] = "3s",
        }, "--workers", "0");
        var store = Path.Combine(serve.Folder, "serve.db");
        string[] fast = ["--lease", "3s", "--heartbeat", "500ms", "--dead-after", "3s"];
        using var first = StartDrained(serve.Folder, ["worker", "--store", store, "--name", "fleet-a", "--concurrency", "3", .. fast]);
        using var second = StartDrained(serve.Folder, ["worker", "--store", store, "--name", "fleet-b", "--concurrency", "5", .. fast]);
        try
        {
            var metrics = await ScrapeUntilAsync(serve, m => Gauge(m, "bulwark_workers{", "state=\"active\"") == 2, "two active workers");
            Assert.Equal(0, Gauge(metrics, "bulwark_workers{", "state=\"dead\""));
            Assert.Equal(0, Gauge(metrics, "bulwark_process_workers{", ""));
            Assert.Equal(0, Gauge(metrics, "bulwark_fleet_utilization{", ""));

            first.Kill();
            await first.WaitForExitAsync();
            metrics = await ScrapeUntilAsync(serve, m => Gauge(m, "bulwark_workers{", "state=\"active\"") == 1, "one active worker after kill -9");
            Assert.Equal(1, Gauge(metrics, "bulwark_workers{", "state=\"dead\""));
        }
        finally
        {
            foreach (var worker in new[] { first, second })
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                    await worker.WaitForExitAsync();
                }
            }
        }
    }

    private static System.Diagnostics.Process StartDrained(string folder, params string[] args)
    {
        var process = ServeProcess.Start(folder, null, args);
        process.OutputDataReceived += (_, _) => { }; // drained so the worker never blocks on a full pipe
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<string> ScrapeUntilAsync(ServeProcess serve, Func<string, bool> done, string what)
    {
        var metrics = "";
        await Poll.UntilAsync(async () => done(metrics = await serve.Http.GetStringAsync("/metrics")), TimeSpan.FromSeconds(60),
            () => $"/metrics never showed {what}:\n{metrics}\n{serve.Output}");
        return metrics;
    }

    /// <summary>The value of the first sample line starting with <paramref name="prefix"/> and holding <paramref name="label"/>; NaN when none.</summary>
    private static double Gauge(string metrics, string prefix, string label)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_worker_started_with_health_urls_serves_its_own_probes_and_metrics()
    {
        var folder = Directory.CreateTempSubdirectory("bulwark-worker-").FullName;
        var url = $"http://127.0.0.1:{ServeProcess.FreePort()}";
        using var process = ServeProcess.Start(folder, null, "worker", "--store", Path.Combine(folder, "w.db"), "--health-urls", url, "--concurrency", "2");
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        process.OutputDataReceived += (_, _) => { }; // drained so the worker never blocks on a full pipe
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpStatusCode? ready = null;
            while (ready != HttpStatusCode.OK && DateTime.UtcNow < deadline && !process.HasExited)
            {
                try
                {
                    using var response = await http.GetAsync("/health/ready");
                    ready = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                if (ready != HttpStatusCode.OK)
                {
                    // The poll's interval (the loop has its deadline): a 503 while starting no longer spins.
                    await Task.Delay(100);
                }
            }

            using var live = await http.GetAsync("/health/live");
            var metrics = await http.GetStringAsync("/metrics");

            Assert.Equal(HttpStatusCode.OK, ready);
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Contains("bulwark_process_workers", metrics);
            Assert.DoesNotContain("bulwark_workers{", metrics);
            Assert.Contains("bulwark_worker_memory_bytes", metrics);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(string folder, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        using var process = ServeProcess.Start(folder, env, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
