using Bulwark.Hosting;
using Bulwark.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Tests;

public sealed class LoopbackGuardTests
{
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
        Assert.Equal(loopback, Auth.LoopbackGuard.IsLoopback(address));

    [Fact]
    public async Task An_app_without_api_keys_refuses_to_start_on_a_non_loopback_address()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://0.0.0.0:{ServeProcess.FreePort()}");
        builder.Logging.ClearProviders();
        builder.Services.AddBulwark(b => b.UseInMemory());
        builder.Services.AddBulwarkServer();
        await using var app = builder.Build();
        app.MapBulwarkApi();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("no API keys configured", ex.Message);
    }
}
