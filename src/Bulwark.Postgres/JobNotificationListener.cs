using Bulwark.Workers;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Bulwark.Postgres;

/// <summary>
/// Holds one dedicated connection that LISTENs on the store's notification channel and wakes waiters (and the
/// host's <see cref="JobSignal"/>) the moment any machine enqueues. Reconnects with backoff; a missed notification costs a
/// waiter no more than its poll interval.
/// </summary>
internal sealed class JobNotificationListener : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _channel;
    private readonly JobSignal? _signal;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<string> _pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;

    public JobNotificationListener(NpgsqlDataSource dataSource, string channel, JobSignal? signal, TimeProvider time, ILogger logger)
    {
        _dataSource = dataSource;
        _channel = channel;
        _signal = signal;
        _time = time;
        _logger = logger;
    }

    /// <summary>Starts listening; completes once the first LISTEN is in place (so nothing enqueued afterwards is missed).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        await _listening.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits for the next notification; returns its queue, or null after <paramref name="timeout"/>.</summary>
    public async Task<string?> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pulse = Volatile.Read(ref _pulse).Task;
        try
        {
            return await pulse.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, e) => Pulse(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN \"{_channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }

                failures = 0;
                _listening.TrySetResult();
                while (!stopping.IsCancellationRequested)
                {
                    await connection.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6))));
                PostgresLog.ListenerReconnect(_logger, ex, delay.TotalMilliseconds);
                if (failures >= 3)
                {
                    // Let StartAsync return rather than hang: waiters fall back to polling until the listener is back.
                    _listening.TrySetException(ex);
                }

                try
                {
                    await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Pulse(string queue)
    {
        _signal?.Notify(queue);
        Interlocked.Exchange(ref _pulse, new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(queue);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }
}
