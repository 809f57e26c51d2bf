namespace Bulwark.Storage;

/// <summary>
/// The fencing token of one lease: the job id and the lease epoch, which rises with every lease.
/// Every write a running job makes carries it; a store refuses a write whose token is stale.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Epoch">The lease epoch granted with the lease.</param>
public readonly record struct LeaseToken(long JobId, long Epoch)
{
    /// <inheritdoc />
    public override string ToString() => $"{JobId}@{Epoch}";
}
