namespace Bulwark.Workers;

/// <summary>Thrown by a handler to say that retrying cannot help: the job ends <c>Failed</c> at once, its error kept.</summary>
public sealed class PermanentJobException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PermanentJobException()
    {
    }

    /// <summary>Creates the exception with a message saying what is wrong.</summary>
    public PermanentJobException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public PermanentJobException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
