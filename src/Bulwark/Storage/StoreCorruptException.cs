namespace Bulwark.Storage;

/// <summary>The store's file or schema failed its integrity check. Bulwark never rebuilds it silently.</summary>
public sealed class StoreCorruptException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreCorruptException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
