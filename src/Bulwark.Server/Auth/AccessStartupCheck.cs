using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Auth;

/// <summary>
/// At start-up: says how Bulwark's endpoints are protected, refuses a named authorization policy that does not exist (a typo
/// would otherwise lock everyone out at the first request), and marks the server draining when shutdown begins. It never
/// stops the host application for lack of keys: in loopback-only mode <see cref="ServerAccess"/> refuses remote callers per
/// request, on Bulwark's endpoints only, and a warning here says so when the app listens beyond loopback.
/// </summary>
internal sealed class AccessStartupCheck(ServerAccess access, BulwarkServerOptions options, ApiKeySet keys, IServiceProvider services, IHostApplicationLifetime lifetime, Health.ServerState state, ILogger<AccessStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(state.BeginDraining);
        foreach (var (setting, name) in new[] { ("AdminPolicy", options.AdminPolicy), ("ReadPolicy", options.ReadPolicy) })
        {
            if (name is not null)
            {
                await CheckPolicyAsync(setting, name);
            }
        }

        if (keys.Enabled)
        {
            ServerLog.KeysConfigured(logger, keys.ReadCount, keys.AdminCount);
        }

        if (access.PoliciesEnabled)
        {
            ServerLog.PoliciesConfigured(logger, options.AdminPolicy ?? "(none)", options.ReadPolicy ?? "(none)");
        }

        if (access.LoopbackOnly)
        {
            ServerLog.NoKeysLoopbackOnly(logger, ServerAccess.HowToOpen);
            // Addresses are known once the server is bound, after the hosted services have started.
            lifetime.ApplicationStarted.Register(() =>
            {
                var open = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => !ListenAddress.IsLoopback(a));
                if (open is not null)
                {
                    ServerLog.ListeningBeyondLoopback(logger, open, ServerAccess.HowToOpen);
                }
            });
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task CheckPolicyAsync(string setting, string name)
    {
        var provider = services.GetService<IAuthorizationPolicyProvider>();
        if (provider is null || services.GetService<IAuthorizationService>() is null)
        {
            throw new InvalidOperationException(
                $"Bulwark:Server:{setting} names the authorization policy '{name}', but ASP.NET Core authorization is not set up: call builder.Services.AddAuthorization(o => o.AddPolicy(\"{name}\", …)) (and an authentication scheme).");
        }

        if (await provider.GetPolicyAsync(name) is null)
        {
            throw new InvalidOperationException(
                $"Bulwark:Server:{setting} names the authorization policy '{name}', which is not registered: add it with builder.Services.AddAuthorization(o => o.AddPolicy(\"{name}\", …)), or correct the name.");
        }
    }
}
