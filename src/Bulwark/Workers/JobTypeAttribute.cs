namespace Bulwark.Workers;

/// <summary>
/// Declares the job type (and default queue) of a handler class, or of a payload type: <c>[JobType("email.send", Queue = "email")]</c>.
/// On a handler it lets <c>AddHandler&lt;THandler&gt;()</c> register it without strings; on a payload it lets a process that
/// only enqueues (no handler registered) call <c>EnqueueAsync(payload)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class JobTypeAttribute(string type) : Attribute
{
    /// <summary>The job type, as the handler is registered and as jobs name it (<c>[a-z0-9][a-z0-9._:-]*</c>).</summary>
    public string Type { get; } = type;

    /// <summary>The queue <c>EnqueueAsync(payload)</c> uses; <c>default</c> when not set.</summary>
    public string? Queue { get; set; }
}
