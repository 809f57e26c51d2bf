namespace Bulwark.Dashboard.Tests;

/// <summary>With no API keys configured the dashboard is open, without signing in, to callers on loopback.</summary>
public sealed class LoopbackModeTests : IAsyncLifetime
{
    private DashboardHost _host = null!;

    public async Task InitializeAsync() => _host = await DashboardHost.StartAsync(withKeys: false);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task With_no_keys_configured_the_dashboard_is_open_on_loopback_with_controls()
    {
        using var response = await _host.Http.GetAsync("/dashboard/controls");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("loopback · no keys configured", html, StringComparison.Ordinal);
        Assert.Contains("Reclaim stalled now", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_script_and_stylesheet_are_served_from_the_assembly()
    {
        using var script = await _host.Http.GetAsync("/dashboard/assets/dashboard.js");
        using var style = await _host.Http.GetAsync("/dashboard/assets/dashboard.css");

        Assert.Contains("overview.json", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("--accent", await style.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
