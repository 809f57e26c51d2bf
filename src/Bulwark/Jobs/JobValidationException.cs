namespace Bulwark.Jobs;

/// <summary>Bad input: a job (or option) that would be refused before anything is stored. The message says what to change.</summary>
public sealed class JobValidationException : ArgumentException
{
    /// <summary>Creates the exception for the named field.</summary>
    public JobValidationException(string field, string message)
        : base(message, field)
    {
        Field = field;
        Reason = message;
    }

    /// <summary>Creates the exception for the named field with a machine-readable kind.</summary>
    public JobValidationException(string field, string message, JobValidationKind kind)
        : this(field, message)
    {
        Kind = kind;
    }

    /// <summary>The field at fault (<c>queue</c>, <c>payload</c>, <c>max_attempts</c>, …).</summary>
    public string Field { get; }

    /// <summary>The message without the parameter suffix that <see cref="ArgumentException"/> adds.</summary>
    public string Reason { get; }

    /// <summary>What kind of problem it is, so that an HTTP layer can pick 400 or 413.</summary>
    public JobValidationKind Kind { get; } = JobValidationKind.Invalid;
}

/// <summary>Classifies a <see cref="JobValidationException"/>.</summary>
public enum JobValidationKind
{
    /// <summary>Malformed or out-of-range input.</summary>
    Invalid,
    /// <summary>The payload is larger than the configured limit.</summary>
    TooLarge,
    /// <summary>A referenced job (a dependency) does not exist.</summary>
    UnknownReference,
}
