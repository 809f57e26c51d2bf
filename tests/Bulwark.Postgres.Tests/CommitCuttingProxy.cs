using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Bulwark.Postgres.Tests;

/// <summary>
/// A TCP proxy on loopback between a client and the test cluster that, when armed, cuts one connection at its next
/// COMMIT (the simple-protocol <c>Q</c> message Npgsql sends for <c>CommitAsync</c>): either just after forwarding it,
/// dropping the server's answer (the database commits, the client never hears it), or instead of forwarding it (the
/// database never sees it and aborts). Real sockets and a real server, and deterministic: the cut happens at that
/// message, not at a moment in time.
/// </summary>
internal sealed class CommitCuttingProxy : IAsyncDisposable
{
    private static readonly byte[] Commit = Encoding.ASCII.GetBytes("COMMIT\0");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private CutMode? _armed;
    private int _cuts;

    public CommitCuttingProxy(string connectionString)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        _host = target.Host ?? "127.0.0.1";
        _port = target.Port;
        _listener.Start();
        target.Host = "127.0.0.1";
        target.Port = ((IPEndPoint)_listener.LocalEndpoint).Port;

        // Plain text, so the proxy can see the COMMIT; one physical connection per logical one, so none outlives a cut.
        target.SslMode = SslMode.Disable;
        target.Pooling = false;
        ConnectionString = target.ConnectionString;
        _accepting = AcceptAsync();
    }

    public enum CutMode
    {
        /// <summary>Forward the COMMIT, then cut instead of passing its answer back.</summary>
        AfterCommitReachesTheServer,

        /// <summary>Cut instead of forwarding the COMMIT.</summary>
        BeforeCommitReachesTheServer,
    }

    /// <summary>Connects through the proxy.</summary>
    public string ConnectionString { get; }

    /// <summary>Connections cut so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>Cuts the next COMMIT that any connection sends, once.</summary>
    public void CutNextCommit(CutMode mode) => _armed = mode;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            var server = new TcpClient();
            await server.ConnectAsync(_host, _port, _stopping.Token);
            _ = PairAsync(client, server);
        }
    }

    private async Task PairAsync(TcpClient client, TcpClient server)
    {
        using (client)
        using (server)
        {
            var answerDropped = false;
            var toServer = PumpAsync(client.GetStream(), server.GetStream(), buffer =>
            {
                if (_armed is { } mode && buffer.AsSpan().IndexOf(Commit) >= 0)
                {
                    _armed = null;
                    if (mode == CutMode.BeforeCommitReachesTheServer)
                    {
                        return false;
                    }

                    answerDropped = true;
                }

                return true;
            });
            var toClient = PumpAsync(server.GetStream(), client.GetStream(), _ => !Volatile.Read(ref answerDropped));
            await Task.WhenAny(toServer, toClient);
        }
    }

    /// <summary>Copies until <paramref name="forward"/> refuses a read (the cut: both sockets close) or a side closes.</summary>
    private async Task PumpAsync(NetworkStream from, NetworkStream to, Func<byte[], bool> forward)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    return;
                }

                if (!forward(buffer[..read]))
                {
                    Interlocked.Increment(ref _cuts);
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The other side closed, or the proxy stopped.
        }
    }
}
