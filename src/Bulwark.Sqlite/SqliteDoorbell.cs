using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Bulwark.Workers;
using Microsoft.Extensions.Logging;

namespace Bulwark.Sqlite;

/// <summary>
/// Cross-process wake-up for the embedded store, the SQLite counterpart of PostgreSQL's LISTEN/NOTIFY. Each process
/// whose workers wait for jobs binds a Unix datagram socket in a folder beside the database (<c>bulwark.db-bell/</c>);
/// every writer that commits work a worker could take sends one empty datagram to each socket there, and the listener
/// turns it into a <see cref="JobSignal"/> pulse. A lost or refused datagram costs a worker no more than its poll, which
/// stays the safety net.
/// </summary>
/// <remarks>
/// Sending never blocks the writer: the sender socket is non-blocking, and a full receive buffer means that listener
/// already has wake-ups waiting. A socket file nobody is bound to (its process died) refuses the datagram and is
/// removed. The folder is watched, so a worker that starts is rung from its first commit on, not at the next re-list.
/// </remarks>
internal sealed class SqliteDoorbell : IDisposable
{
    // sockaddr_un holds 108 bytes with the terminating zero.
    private const int MaxSocketPath = 107;
    private static readonly TimeSpan Relist = TimeSpan.FromSeconds(5);

    private readonly string _folder;
    private readonly ILogger _logger;
    private readonly Socket _sender;
    private readonly FileSystemWatcher? _watcher;
    private readonly Socket? _listener;
    private readonly string? _ownPath;
    private readonly Thread? _thread;
    private readonly JobSignal? _signal;
    private readonly Lock _gate = new();
    private UnixDomainSocketEndPoint[] _peers = [];
    private long _listedAt = long.MinValue;
    private volatile bool _stale = true;
    private long _rings;
    private long _wakes;
    private volatile bool _disposed;

    private SqliteDoorbell(string folder, JobSignal? signal, ILogger logger)
    {
        _folder = folder;
        _logger = logger;
        _signal = signal;
        _sender = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
        if (signal is not null)
        {
            _ownPath = Path.Combine(folder, $"{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.sock");
            _listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(_ownPath));
            _thread = new Thread(Listen) { IsBackground = true, Name = "bulwark-sqlite-doorbell" };
            _thread.Start();
        }

        try
        {
            _watcher = new FileSystemWatcher(folder, "*.sock") { NotifyFilter = NotifyFilters.FileName };
            _watcher.Created += (_, _) => _stale = true;
            _watcher.Deleted += (_, _) => _stale = true;
            _watcher.Renamed += (_, _) => _stale = true;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            // Out of inotify watches, say: the periodic re-list still finds new listeners.
            _watcher = null;
        }
    }

    /// <summary>The folder of the sockets.</summary>
    internal string Folder => _folder;

    /// <summary>Datagrams sent so far (for tests and diagnostics).</summary>
    internal long Rings => Interlocked.Read(ref _rings);

    /// <summary>Datagrams received and turned into a pulse so far.</summary>
    internal long Wakes => Interlocked.Read(ref _wakes);

    /// <summary>
    /// The doorbell of the database at <paramref name="databasePath"/>, listening when <paramref name="signal"/> is
    /// given; null where Unix sockets are not available (Windows), or the folder cannot be made: then workers in other
    /// processes find jobs at their next poll.
    /// </summary>
    internal static SqliteDoorbell? Create(string databasePath, JobSignal? signal, ILogger logger)
    {
        if (!Socket.OSSupportsUnixDomainSockets || OperatingSystem.IsWindows())
        {
            return null;
        }

        var folder = FolderFor(databasePath);
        try
        {
            Directory.CreateDirectory(folder);
            return new SqliteDoorbell(folder, signal, logger);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SocketException)
        {
            SqliteLog.DoorbellUnavailable(logger, folder, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// Beside the database (<c>PATH-bell</c>), so processes that share the file through a volume share the sockets too;
    /// in the temporary folder under a hash of the path when that would make socket paths too long.
    /// </summary>
    internal static string FolderFor(string databasePath)
    {
        var full = Path.GetFullPath(databasePath);
        var beside = full + "-bell";
        // The longest socket name is "<pid up to 7 digits>-<8 hex>.sock".
        if (Encoding.UTF8.GetByteCount(beside) + 1 + 21 <= MaxSocketPath)
        {
            return beside;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..16];
        return Path.Combine(Path.GetTempPath(), $"bulwark-bell-{hash}");
    }

    /// <summary>Tells every listening process but this one that work may be waiting. Called after the commit.</summary>
    internal void Ring()
    {
        if (_disposed)
        {
            return;
        }

        foreach (var peer in Peers())
        {
            try
            {
                _sender.SendTo(ReadOnlySpan<byte>.Empty, SocketFlags.None, peer);
                Interlocked.Increment(ref _rings);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
            {
                // Its buffer is full of wake-ups it has not read yet: one more adds nothing.
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody is bound to it: its process died without removing it.
                TryDelete(peer.ToString());
                _stale = true;
            }
            catch (SocketException)
            {
                _stale = true;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _watcher?.Dispose();
        if (_listener is not null)
        {
            // Wakes the listening thread out of its blocking receive, so it sees _disposed and ends.
            try
            {
                _sender.SendTo(ReadOnlySpan<byte>.Empty, SocketFlags.None, new UnixDomainSocketEndPoint(_ownPath!));
            }
            catch (SocketException)
            {
            }

            _thread?.Join(TimeSpan.FromSeconds(5));
            _listener.Dispose();
        }

        _sender.Dispose();
        if (_ownPath is not null)
        {
            TryDelete(_ownPath);
        }
    }

    private UnixDomainSocketEndPoint[] Peers()
    {
        var now = Environment.TickCount64;
        if (!_stale && now - Volatile.Read(ref _listedAt) < Relist.TotalMilliseconds)
        {
            return Volatile.Read(ref _peers);
        }

        lock (_gate)
        {
            _stale = false;
            try
            {
                _peers = Directory.EnumerateFiles(_folder, "*.sock")
                    .Where(p => !string.Equals(p, _ownPath, StringComparison.Ordinal))
                    .Select(p => new UnixDomainSocketEndPoint(p))
                    .ToArray();
            }
            catch (IOException)
            {
                _peers = [];
            }
            catch (UnauthorizedAccessException)
            {
                _peers = [];
            }

            Volatile.Write(ref _listedAt, now);
            return _peers;
        }
    }

    private void Listen()
    {
        var buffer = new byte[64];
        while (!_disposed)
        {
            try
            {
                _listener!.Receive(buffer);
                if (_disposed)
                {
                    return;
                }

                Interlocked.Increment(ref _wakes);
                // A datagram does not say which queue: workers of every queue look once.
                _signal!.Notify("*");
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (_disposed)
            {
                return;
            }
            catch (SocketException ex)
            {
                // A receive error on a local datagram socket is not expected; the poll carries on meanwhile.
                SqliteLog.DoorbellUnavailable(_logger, _folder, ex.Message);
                return;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
