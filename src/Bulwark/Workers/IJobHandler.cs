namespace Bulwark.Workers;

/// <summary>
/// Runs jobs of one type. Resolved from a fresh DI scope for every job. Return a result object (stored as JSON) or null;
/// throw <see cref="PermanentJobException"/> for an error that retrying cannot fix; any other exception is retried per the job's policy.
/// </summary>
/// <typeparam name="TPayload">The payload type the job's JSON is read into.</typeparam>
public interface IJobHandler<in TPayload>
{
    /// <summary>Runs one attempt. Honour <see cref="JobContext.CancellationToken"/>: it fires on timeout, lease loss, cancellation and shutdown.</summary>
    Task<object?> HandleAsync(TPayload payload, JobContext context);
}
