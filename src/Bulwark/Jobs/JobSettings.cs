namespace Bulwark.Jobs;

/// <summary>The settings of a <see cref="NewJob"/> that a queue's policy can supply when the job does not set them itself.</summary>
[Flags]
public enum JobSettings
{
    /// <summary>None set by the job.</summary>
    None = 0,

    /// <summary><see cref="NewJob.MaxAttempts"/>.</summary>
    MaxAttempts = 1,

    /// <summary><see cref="NewJob.Timeout"/>.</summary>
    Timeout = 2,

    /// <summary><see cref="NewJob.Backoff"/>.</summary>
    Backoff = 4,
}
