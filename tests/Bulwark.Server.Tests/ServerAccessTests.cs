using System.Net;
using System.Text;
using System.Text.Json;
using Bulwark.Hosting;
using Bulwark.Server.Auth;
using Bulwark.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Tests;

/// <summary>
/// Who may use Bulwark's endpoints: loopback-only mode guards Bulwark's endpoints and never the host app; API keys and
/// ASP.NET Core authorization policies are alternatives (or used together).
/// </summary>
public sealed class ServerAccessTests
{
    private const string Remote = "10.1.2.3";

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://10.1.2.3:5080", false)]
    [InlineData("http://example.com:5080", false)]
    public void Only_loopback_addresses_count_as_loopback(string address, bool loopback) =>
        Assert.Equal(loopback, ListenAddress.IsLoopback(address));

    [Fact]
    public async Task An_app_without_api_keys_starts_on_a_non_loopback_address_and_serves_its_own_and_bulwarks_endpoints_to_loopback()
    {
        var port = ServeProcess.FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        builder.Logging.ClearProviders();
        builder.Services.AddBulwark(b => b.UseInMemory());
        builder.Services.AddBulwarkServer();
        await using var app = builder.Build();
        app.MapGet("/hello", () => "hello");
        app.MapBulwarkApi();

        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal("hello", await http.GetStringAsync("/hello"));
        using var queues = await http.GetAsync("/api/v1/queues");
        Assert.Equal(HttpStatusCode.OK, queues.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task Without_keys_a_remote_caller_is_refused_by_bulwarks_endpoints_only_and_told_how_to_add_keys()
    {
        await using var app = await StartAsync();

        var hello = await SendAsync(app, "GET", "/hello", remote: Remote);
        var queues = await SendAsync(app, "GET", "/api/v1/queues", remote: Remote);
        var detailed = await SendAsync(app, "GET", "/health/detailed", remote: Remote);
        var live = await SendAsync(app, "GET", "/health/live", remote: Remote);
        var local = await SendAsync(app, "GET", "/api/v1/queues", remote: "127.0.0.1");

        Assert.Equal(StatusCodes.Status200OK, hello.Status);
        Assert.Equal(StatusCodes.Status403Forbidden, queues.Status);
        Assert.Contains("Bulwark__Server__AdminKeys__0", queues.Body, StringComparison.Ordinal);
        Assert.Contains("AdminPolicy", queues.Body, StringComparison.Ordinal);
        Assert.Equal(StatusCodes.Status403Forbidden, detailed.Status);
        Assert.Equal(StatusCodes.Status200OK, live.Status);
        Assert.Equal(StatusCodes.Status200OK, local.Status);
    }

    [Fact]
    public async Task With_policies_an_anonymous_caller_gets_401_a_reader_may_read_but_not_change_and_an_admin_may_change()
    {
        await using var app = await StartAsync(policies: true);
        const string Job = """{"queue":"default","type":"demo.noop"}""";

        var anonymous = await SendAsync(app, "GET", "/api/v1/queues", remote: Remote);
        var reads = await SendAsync(app, "GET", "/api/v1/queues", user: "ada:reader", remote: Remote);
        var readerEnqueues = await SendAsync(app, "POST", "/api/v1/jobs", Job, user: "ada:reader", remote: Remote);
        var adminEnqueues = await SendAsync(app, "POST", "/api/v1/jobs", Job, user: "grace:admin", remote: Remote);
        var strangerReads = await SendAsync(app, "GET", "/api/v1/queues", user: "eve:guest", remote: Remote);

        Assert.Equal(StatusCodes.Status401Unauthorized, anonymous.Status);
        Assert.Contains("bulwark-read", anonymous.Body, StringComparison.Ordinal);
        Assert.Equal(StatusCodes.Status200OK, reads.Status);
        Assert.Equal(StatusCodes.Status403Forbidden, readerEnqueues.Status);
        Assert.Contains("bulwark-admin", readerEnqueues.Body, StringComparison.Ordinal);
        Assert.Equal(StatusCodes.Status201Created, adminEnqueues.Status);
        Assert.Equal(StatusCodes.Status403Forbidden, strangerReads.Status);
    }

    [Fact]
    public async Task With_keys_and_policies_either_grants_access()
    {
        await using var app = await StartAsync(policies: true, keys: true);

        var byKey = await SendAsync(app, "POST", "/api/v1/queues/default/pause", key: TestApp.AdminKey, remote: Remote);
        var byPolicy = await SendAsync(app, "POST", "/api/v1/queues/default/resume", user: "grace:admin", remote: Remote);
        var wrongKeyButAdmin = await SendAsync(app, "POST", "/api/v1/queues/default/pause", key: "not-a-key", user: "grace:admin", remote: Remote);
        var neither = await SendAsync(app, "GET", "/api/v1/queues", key: "not-a-key", remote: Remote);

        Assert.Equal(StatusCodes.Status200OK, byKey.Status);
        Assert.Equal(StatusCodes.Status200OK, byPolicy.Status);
        Assert.Equal(StatusCodes.Status200OK, wrongKeyButAdmin.Status);
        Assert.Equal(StatusCodes.Status401Unauthorized, neither.Status);
    }

    [Fact]
    public async Task The_dashboard_follows_the_policies_a_reader_sees_pages_and_an_anonymous_browser_is_challenged()
    {
        await using var app = await StartAsync(policies: true, dashboard: true);

        var anonymous = await SendAsync(app, "GET", "/dashboard/", remote: Remote);
        var reader = await SendAsync(app, "GET", "/dashboard/", user: "ada:reader", remote: Remote);

        Assert.Equal(StatusCodes.Status401Unauthorized, anonymous.Status);
        Assert.Equal(StatusCodes.Status200OK, reader.Status);
        Assert.Contains("read-only", reader.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_policy_name_that_is_not_registered_fails_start_up_naming_it()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddAuthorization();
        builder.Services.AddBulwark(b => b.UseInMemory());
        builder.Services.AddBulwarkServer(o => o.AdminPolicy = "bulwark-admn");
        await using var app = builder.Build();
        app.MapBulwarkApi();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("'bulwark-admn', which is not registered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policies_can_be_named_in_configuration()
    {
        await using var app = await StartAsync(settings: new() { ["Bulwark:Server:AdminPolicy"] = "bulwark-admin" });

        var admin = await SendAsync(app, "POST", "/api/v1/queues/default/pause", user: "grace:admin", remote: Remote);
        var reader = await SendAsync(app, "GET", "/api/v1/queues", user: "ada:reader", remote: Remote);

        Assert.Equal(StatusCodes.Status200OK, admin.Status);
        // No read policy: reading needs the admin policy.
        Assert.Equal(StatusCodes.Status403Forbidden, reader.Status);
    }

    private static async Task<WebApplication> StartAsync(bool policies = false, bool keys = false, bool dashboard = false, Dictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        var config = new Dictionary<string, string?>(settings ?? []);
        if (keys)
        {
            config["Bulwark:Server:AdminKeys:0"] = TestApp.AdminKey;
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddAuthentication(HeaderAuthentication.Name).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.Name, null);
        builder.Services.AddAuthorization(o =>
        {
            o.AddPolicy("bulwark-admin", p => p.RequireRole("admin"));
            o.AddPolicy("bulwark-read", p => p.RequireRole("reader", "admin"));
        });
        builder.Services.AddBulwark(b => b.UseInMemory());
        builder.Services.AddBulwarkServer(o =>
        {
            if (policies)
            {
                o.AdminPolicy = "bulwark-admin";
                o.ReadPolicy = "bulwark-read";
            }
        });
        if (dashboard)
        {
            builder.Services.AddBulwarkDashboard();
        }

        var app = builder.Build();
        app.MapGet("/hello", () => "hello");
        app.MapBulwarkApi();
        app.MapBulwarkHealth();
        if (dashboard)
        {
            app.MapBulwarkDashboard();
        }

        await app.StartAsync();
        return app;
    }

    private static async Task<Answer> SendAsync(WebApplication app, string method, string path, string? json = null, string? user = null, string? key = null, string? remote = null)
    {
        var http = await app.GetTestServer().SendAsync(http =>
        {
            http.Request.Method = method;
            http.Request.Path = path;
            if (remote is not null)
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse(remote);
            }

            if (user is not null)
            {
                http.Request.Headers[HeaderAuthentication.Header] = user;
            }

            if (key is not null)
            {
                http.Request.Headers[ApiAccessFilter.Header] = key;
            }

            if (json is not null)
            {
                var bytes = Encoding.UTF8.GetBytes(json);
                http.Request.ContentType = "application/json";
                http.Request.ContentLength = bytes.Length;
                http.Request.Body = new MemoryStream(bytes);
            }
        });
        using var reader = new StreamReader(http.Response.Body, Encoding.UTF8);
        return new Answer(http.Response.StatusCode, await reader.ReadToEndAsync());
    }

    private sealed record Answer(int Status, string Body);
}
