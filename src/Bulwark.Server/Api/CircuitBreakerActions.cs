using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.Logging;

namespace Bulwark.Server.Api;

/// <summary>
/// The operator's breaker actions, written once: the API, the dashboard and the CLI's store back-end all call these.
/// The state goes to the store, so it holds for every worker of the fleet; each worker logs and counts the transition
/// when it sees it (at its next poll).
/// </summary>
public static class CircuitBreakerActions
{
    /// <summary>Opens <paramref name="type"/>'s breaker by hand for the whole fleet (logged); returns what the store now holds.</summary>
    public static async Task<CircuitBreakerRecord> OpenAsync(ICircuitBreakerStore store, string type, ILogger logger, CancellationToken cancellationToken)
    {
        JobValidator.ValidateType(type);
        var breaker = await store.OpenCircuitAsync(type, cancellationToken);
        ServerLog.CircuitOpenedByHand(logger, type, breaker.Since);
        return breaker;
    }

    /// <summary>False when no breaker was open by hand for <paramref name="type"/>.</summary>
    public static async Task<bool> CloseAsync(ICircuitBreakerStore store, string type, ILogger logger, CancellationToken cancellationToken)
    {
        JobValidator.ValidateType(type);
        var closed = await store.CloseCircuitAsync(type, cancellationToken);
        if (closed)
        {
            ServerLog.CircuitClosedByHand(logger, type);
        }

        return closed;
    }

    /// <summary>The breaker that holds <paramref name="type"/> back fleet-wide, if any: one opened by hand first, else a worker's own.</summary>
    public static CircuitBreakerRecord? Holding(IReadOnlyList<CircuitBreakerRecord> breakers, string type) =>
        breakers.Where(b => string.Equals(b.Type, type, StringComparison.Ordinal)).OrderBy(b => b.Manual ? 0 : 1).FirstOrDefault();

    /// <summary>The API's (and the CLI's <c>--json</c>) shape of a breaker.</summary>
    public static object View(CircuitBreakerRecord b) => new
    {
        type = b.Type,
        state = b.State.ToName(),
        manual = b.Manual,
        worker_id = b.WorkerId,
        since = b.Since,
        reset_at = b.ResetAt,
        consecutive_failures = b.ConsecutiveFailures,
    };
}
