using Bulwark.Client;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Server.Api;

/// <summary>Enqueues a request's jobs inside the queue limits: room is reserved first and given back if the store refuses.</summary>
internal static class LimitedEnqueue
{
    public static async Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(
        JobClient client, QueueLimiter limiter, IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        await limiter.ReserveAsync(jobs, cancellationToken);
        IReadOnlyList<EnqueueResult> results;
        try
        {
            results = await client.EnqueueManyAsync(jobs, cancellationToken);
        }
        catch
        {
            limiter.Release(jobs);
            throw;
        }

        limiter.Committed(jobs);
        return results;
    }
}
