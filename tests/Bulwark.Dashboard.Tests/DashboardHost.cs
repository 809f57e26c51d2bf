using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bulwark.Hosting;
using Bulwark.Server;
using Bulwark.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Dashboard.Tests;

/// <summary>
/// A real server on a free loopback port: a temp SQLite store, the API, the dashboard and an in-process worker running the
/// demo handlers on queue "work" and a test handler on queue "flaky" whose downstream the test switches off and on.
/// </summary>
public sealed class DashboardHost : IAsyncDisposable
{
    public const string ReadKey = "dashboard-read-key-0123456789";
    public const string AdminKey = "dashboard-admin-key-0123456789";

    private readonly WebApplication _app;
    private readonly string _directory;

    private DashboardHost(WebApplication app, string directory, FlakyDownstream downstream)
    {
        _app = app;
        _directory = directory;
        Downstream = downstream;
        BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    public FlakyDownstream Downstream { get; }

    public static async Task<DashboardHost> StartAsync(bool withKeys)
    {
        var directory = Path.Combine(Path.GetTempPath(), "bulwark-dashboard-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var downstream = new FlakyDownstream();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var config = new Dictionary<string, string?>();
        if (withKeys)
        {
            config["Bulwark:Server:ReadKeys:0"] = ReadKey;
            config["Bulwark:Server:AdminKeys:0"] = AdminKey;
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddBulwark(b => b
            .UseSqlite(Path.Combine(directory, "jobs.db"))
            .AddDemoHandlers()
            .AddHandler<JsonElement>("test.flaky", (_, _) => downstream.CallAsync())
            // The tests' demo.fail jobs fail on purpose, several in a row across tests: the worker's own breaker (5 by
            // default) would hold the next test's demo.fail for its 30 s reset, in whatever order xunit runs them.
            .AddWorker(w => w.Name("dashboard-test").Queues("work", "flaky", "doomed").Concurrency(2).Poll(TimeSpan.FromMilliseconds(100))
                .CircuitBreaker(1_000, TimeSpan.FromSeconds(30))));
        builder.Services.AddBulwarkServer();
        builder.Services.AddBulwarkDashboard();
        var app = builder.Build();
        app.MapBulwarkApi("/api/v1");
        app.MapBulwarkDashboard("/dashboard");
        await app.StartAsync();
        return new DashboardHost(app, directory, downstream);
    }

    /// <summary>Enqueues through the HTTP API, as a producer would.</summary>
    public async Task<long> EnqueueAsync(string queue, string type, string payload = "{}", int maxAttempts = 3, long? dependsOn = null)
    {
        var dependency = dependsOn is { } parent ? $$""","depends_on":[{{parent}}]""" : "";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs")
        {
            Content = new StringContent($$"""{"queue":"{{queue}}","type":"{{type}}","payload":{{payload}},"max_attempts":{{maxAttempts}}{{dependency}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-API-Key", AdminKey);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"enqueue answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-API-Key", AdminKey);
        using var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<string> JobStateAsync(long id) => (await GetJsonAsync($"/api/v1/jobs/{id}")).GetProperty("state").GetString()!;

    /// <summary>Polls the API until the job reaches <paramref name="state"/>, or fails with what it was.</summary>
    public async Task WaitForStateAsync(long id, string state, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            last = await JobStateAsync(id);
            if (last == state)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"job {id} did not reach {state} in time; it is {last}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp directory left behind is harmless.
        }
    }
}
