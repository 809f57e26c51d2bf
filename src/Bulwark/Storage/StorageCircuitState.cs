namespace Bulwark.Storage;

/// <summary>The state of the storage circuit (the same numbers the <c>bulwark_circuit_breaker_state</c> gauge shows).</summary>
public enum StorageCircuitState
{
    /// <summary>Writes go through.</summary>
    Closed = 0,
    /// <summary>The reset time has passed: one probe write goes through; its outcome closes or reopens the circuit.</summary>
    HalfOpen = 1,
    /// <summary>Too many consecutive persistence errors: writes are refused at once, leasing pauses.</summary>
    Open = 2,
}
