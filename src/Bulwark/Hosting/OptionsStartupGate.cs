using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bulwark.Hosting;

/// <summary>
/// Runs the <c>ValidateOnStart</c> checks when the host resolves its hosted services, before the worker's own
/// constructor can refuse the same options with a less specific message. Registered first, so it is resolved first.
/// </summary>
internal sealed class OptionsStartupGate : IHostedService
{
    public OptionsStartupGate(IServiceProvider services) =>
        (services.GetService(typeof(IStartupValidator)) as IStartupValidator)?.Validate();

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
