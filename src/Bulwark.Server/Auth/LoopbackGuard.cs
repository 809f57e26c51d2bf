using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Auth;

/// <summary>
/// With no API keys configured the API is open to whoever can reach it, so the server refuses to start on an address
/// beyond loopback and says why. Checked before the server binds (configured URLs) and again once bound (Kestrel endpoints).
/// Also marks the server draining when shutdown begins.
/// </summary>
internal sealed class LoopbackGuard(ApiKeySet keys, IServer server, IHostApplicationLifetime lifetime, Health.ServerState state, ILogger<LoopbackGuard> logger) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        lifetime.ApplicationStopping.Register(state.BeginDraining);
        if (keys.Enabled)
        {
            ServerLog.KeysConfigured(logger, keys.ReadCount, keys.AdminCount);
        }
        else
        {
            ServerLog.NoKeysLoopbackOnly(logger);
            Refuse(server.Features.Get<IServerAddressesFeature>()?.Addresses);
            lifetime.ApplicationStarted.Register(() =>
            {
                try
                {
                    Refuse(server.Features.Get<IServerAddressesFeature>()?.Addresses);
                }
                catch (InvalidOperationException)
                {
                    lifetime.StopApplication();
                }
            });
        }

        next(app);
    };

    /// <summary>True for localhost, 127.0.0.0/8 and ::1 (with any port and scheme).</summary>
    public static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://wildcard-plus", StringComparison.Ordinal).Replace("://*", "://wildcard-star", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    private void Refuse(ICollection<string>? addresses)
    {
        foreach (var address in addresses ?? [])
        {
            if (!IsLoopback(address))
            {
                ServerLog.RefusedNonLoopback(logger, address);
                throw new InvalidOperationException(
                    $"Refusing to listen on {address}: no API keys are configured (no API keys configured: listening on loopback only). Configure Bulwark:Server:AdminKeys and ReadKeys, or listen on http://127.0.0.1.");
            }
        }
    }
}
