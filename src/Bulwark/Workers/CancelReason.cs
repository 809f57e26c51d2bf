namespace Bulwark.Workers;

/// <summary>Why a running job's token was cancelled; decides the category of its outcome.</summary>
internal enum CancelReason
{
    None = 0,
    Timeout = 1,
    LeaseLost = 2,
    CancelRequested = 3,
    Shutdown = 4,
}
