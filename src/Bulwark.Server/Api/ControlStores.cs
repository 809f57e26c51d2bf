using Bulwark.Scheduling;
using Bulwark.Storage;

namespace Bulwark.Server.Api;

/// <summary>
/// The scheduling sides of the store. Read from <see cref="IJobQuery"/>, which is the concrete store: <see cref="IJobStore"/>
/// may be wrapped by the storage circuit and hide them.
/// </summary>
internal static class ControlStores
{
    public static IRecurringJobStore Recurring(IJobQuery query) =>
        query as IRecurringJobStore ?? throw Unsupported(query, "recurring jobs");

    public static IQueueLimitStore Limits(IJobQuery query) =>
        query as IQueueLimitStore ?? throw Unsupported(query, "queue limits");

    private static ApiProblemException Unsupported(IJobQuery query, string what) =>
        new(StatusCodes.Status501NotImplemented, "Not supported by this store",
            $"The server's store ({query.GetType().Name}) does not keep {what}; run the server on the SQLite, PostgreSQL or in-memory store.");
}
