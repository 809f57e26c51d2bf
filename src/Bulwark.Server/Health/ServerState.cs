namespace Bulwark.Server.Health;

/// <summary>Whether this server is draining (shutting down): readiness fails so that load balancers stop sending traffic.</summary>
public sealed class ServerState
{
    private int _draining;

    /// <summary>True once shutdown began (or <see cref="BeginDraining"/> was called).</summary>
    public bool Draining => Volatile.Read(ref _draining) == 1;

    /// <summary>Marks the server draining.</summary>
    public void BeginDraining() => Volatile.Write(ref _draining, 1);
}
