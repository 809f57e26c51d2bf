using Microsoft.Extensions.Hosting;

namespace Bulwark.Workers;

/// <summary>
/// Hosts a <see cref="WorkerRuntime"/>: registers at start, then loops its leasing and completer passes and beats on its
/// own thread. Stop drains gracefully (stop leasing, wait, release the rest, deregister).
/// </summary>
internal sealed class WorkerService(WorkerRuntime runtime, JobSignal signal, TimeProvider time) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _leasing = new();
    private readonly CancellationTokenSource _completing = new();
    private HeartbeatThread? _heartbeat;
    private Task _leaseLoop = Task.CompletedTask;
    private Task _completerLoop = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await runtime.RegisterAsync(cancellationToken);
        _heartbeat = new HeartbeatThread(runtime, time, runtime.Options.HeartbeatInterval);
        _heartbeat.Start();
        _completerLoop = Task.Run(() => CompleteLoopAsync(_completing.Token), CancellationToken.None);
        _leaseLoop = Task.Run(() => LeaseLoopAsync(_leasing.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        runtime.BeginDrain();
        await _leasing.CancelAsync();
        await _leaseLoop;
        try
        {
            await runtime.DrainAsync(cancellationToken);
        }
        finally
        {
            _heartbeat?.Stop();
            await runtime.DeregisterAsync(CancellationToken.None);
            await _completing.CancelAsync();
            await _completerLoop;
            runtime.HardStop();
        }
    }

    public void Dispose()
    {
        _heartbeat?.Dispose();
        _leasing.Dispose();
        _completing.Dispose();
    }

    private async Task LeaseLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Read before the pass: an enqueue that lands while the pass runs must not wait for the poll.
                var seen = runtime.WorkVersion(signal);
                var leased = await runtime.RunOnceAsync(stopping);
                if (leased == 0 || runtime.FreeSlots == 0)
                {
                    await runtime.WaitForWorkAsync(signal, seen, stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task CompleteLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await runtime.Completer.WaitForOutcomesAsync(stopping);
                if (await runtime.Completer.RunOnceAsync(stopping) == 0)
                {
                    // The store refused the batch: back off for one poll before retrying it.
                    await Task.Delay(runtime.Options.PollInterval, time, stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
