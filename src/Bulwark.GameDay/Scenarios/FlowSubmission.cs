using Bulwark.Client;
using Bulwark.Flows;
using Bulwark.Jobs;
using Bulwark.Sqlite;

namespace Bulwark.GameDay.Scenarios;

/// <summary>
/// Submits a flow the way an application embedding Bulwark does (<c>EnqueueFlowAsync</c> on its own connection to the
/// shared store): flows have no HTTP endpoint yet, so this is the only submission path to put a cycle through.
/// </summary>
internal static class FlowSubmission
{
    /// <summary>Enqueues the flow; the refusal message when it is refused, null when it was stored.</summary>
    public static async Task<string?> SubmitAsync(string storePath, FlowBuilder flow, CancellationToken cancellationToken)
    {
        await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = storePath }, cancellationToken);
        var client = new JobClient(store, store);
        try
        {
            await client.EnqueueFlowAsync(flow, cancellationToken);
            return null;
        }
        catch (JobValidationException ex)
        {
            return ex.Reason;
        }
    }
}
