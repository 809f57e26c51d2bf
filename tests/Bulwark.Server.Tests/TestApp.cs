using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bulwark.Hosting;
using Bulwark.Server;
using Bulwark.Storage;
using Bulwark.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Bulwark.Server.Tests;

/// <summary>A minimal ASP.NET Core app hosting the Bulwark API on a TestServer, over an in-memory store behind fault injection and the storage circuit.</summary>
internal sealed class TestApp : IAsyncDisposable
{
    public const string ReadKey = "read-key-0123456789";
    public const string AdminKey = "admin-key-0123456789";

    private readonly WebApplication _app;

    private TestApp(WebApplication app, InMemoryJobStore store, FaultInjectingJobStore faults, FakeTimeProvider time)
    {
        _app = app;
        Store = store;
        Faults = faults;
        Time = time;
        Client = app.GetTestClient();
    }

    public HttpClient Client { get; }

    public InMemoryJobStore Store { get; }

    public FaultInjectingJobStore Faults { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestApp> StartAsync(Dictionary<string, string?>? settings = null, bool withKeys = false, int circuitThreshold = 3, Action<BulwarkBuilder>? bulwark = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var config = new Dictionary<string, string?>(settings ?? []);
        if (withKeys)
        {
            config["Bulwark:Server:ReadKeys:0"] = ReadKey;
            config["Bulwark:Server:AdminKeys:0"] = AdminKey;
        }

        builder.Configuration.AddInMemoryCollection(config);
        // With a worker the app runs on the real clock (the worker's timers must tick); otherwise on the fake one.
        TimeProvider clock = bulwark is null ? time : TimeProvider.System;
        var store = new InMemoryJobStore(clock);
        var faults = new FaultInjectingJobStore(store, store);
        builder.Services.AddSingleton(clock);
        builder.Services.AddBulwark(b =>
        {
            b.UseStore(_ => faults).UseStorageCircuit(o =>
            {
                o.FailureThreshold = circuitThreshold;
                o.ResetTimeout = TimeSpan.FromSeconds(10);
            });
            bulwark?.Invoke(b);
        });
        builder.Services.AddBulwarkServer();
        builder.Services.AddBulwarkTelemetry(); // the Prometheus exporter behind MapBulwarkMetrics
        var app = builder.Build();
        app.MapBulwarkApi("/api/v1");
        app.MapBulwarkHealth();
        app.MapBulwarkMetrics();
        await app.StartAsync();
        return new TestApp(app, store, faults, time);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, string? key = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, contentType);
        }

        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        return await Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostAsync(string path, string? json = null, string? key = null) => SendAsync(HttpMethod.Post, path, json, key);

    public Task<HttpResponseMessage> GetAsync(string path, string? key = null) => SendAsync(HttpMethod.Get, path, key: key);

    public async Task<long> EnqueueAsync(string queue = "default", string type = "demo.noop", string extra = "", string payload = """{"n":1}""")
    {
        using var response = await PostAsync("/api/v1/jobs", $$"""{"queue":"{{queue}}","type":"{{type}}","payload":{{payload}}{{extra}}}""", AdminKey);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"enqueue answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }

    public async Task<long> StoredJobsAsync() =>
        (await Store.GetQueuesAsync()).Sum(q => q.Counts.Values.Sum());

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>());

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
