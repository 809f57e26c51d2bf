using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bulwark.Hosting;
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

/// <summary>
/// The API over an in-memory store (which keeps recurring jobs and queue limits) wrapped by the storage circuit, as
/// in production, on a fake clock. Keys configured: reads need the read key, changes the admin key.
/// </summary>
internal sealed class ControlApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ControlApp(WebApplication app, InMemoryJobStore store, FakeTimeProvider time)
    {
        _app = app;
        Store = store;
        Time = time;
        Client = app.GetTestClient();
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public InMemoryJobStore Store { get; }

    public FakeTimeProvider Time { get; }

    public static async Task<ControlApp> StartAsync()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bulwark:Server:ReadKeys:0"] = TestApp.ReadKey,
            ["Bulwark:Server:AdminKeys:0"] = TestApp.AdminKey,
        });
        var store = new InMemoryJobStore(time);
        builder.Services.AddSingleton<TimeProvider>(time);
        // Maintenance runs the recurring scheduler, as in 'bulwark serve'.
        builder.Services.AddBulwark(b => b.UseStore(_ => store).UseStorageCircuit().AddMaintenance());
        builder.Services.AddBulwarkServer();
        var app = builder.Build();
        app.MapBulwarkApi("/api/v1");
        await app.StartAsync();
        return new ControlApp(app, store, time);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, string? key = TestApp.AdminKey)
    {
        using var request = new HttpRequestMessage(method, "/api/v1" + path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        return await Client.SendAsync(request);
    }

    public async Task<long> StoredJobsAsync() => (await Store.GetQueuesAsync()).Sum(q => q.Counts.Values.Sum());

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Asserts a problem+json answer with this status whose detail contains <paramref name="expected"/>.</summary>
    public static async Task AssertProblemAsync(HttpResponseMessage response, System.Net.HttpStatusCode status, string expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString();
        Assert.Contains(expected, detail, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
