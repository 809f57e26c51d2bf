namespace Bulwark.Workers;

/// <summary>The worker's options are not usable; the message lists every problem and what to change.</summary>
public sealed class WorkerOptionsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerOptionsException()
    {
    }

    /// <summary>Creates the exception from a message.</summary>
    public WorkerOptionsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception from a message and a cause.</summary>
    public WorkerOptionsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The problems, one per entry.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}
