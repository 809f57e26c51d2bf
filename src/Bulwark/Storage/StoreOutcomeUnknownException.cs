namespace Bulwark.Storage;

/// <summary>
/// The connection to the store broke while it committed a write, and the store could not be asked afterwards whether
/// the write was stored. The write was not repeated (that could store it twice); it may or may not have happened.
/// </summary>
public sealed class StoreOutcomeUnknownException : IOException
{
    /// <summary>Creates the exception.</summary>
    public StoreOutcomeUnknownException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
