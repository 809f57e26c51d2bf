using Bulwark.Client;
using Bulwark.Jobs;

namespace Bulwark.Server.Api;

/// <summary>The optional job fields that POST /jobs and POST /flows both read, applied to the client's options when given.</summary>
internal readonly record struct JobFieldOptions(
    int? Priority,
    TimeSpan? Delay,
    DateTimeOffset? RunAt,
    int? MaxAttempts,
    TimeSpan? Timeout,
    BackoffPolicy? Backoff,
    string? Key,
    DateTimeOffset? ExpiresAt,
    TimeSpan? Lifetime)
{
    public void ApplyTo(EnqueueOptions options)
    {
        if (Priority is { } priority) { options.Priority(priority); }
        if (Delay is { } delay) { options.Delay(delay); }
        if (RunAt is { } runAt) { options.RunAt(runAt); }
        if (MaxAttempts is { } maxAttempts) { options.MaxAttempts(maxAttempts); }
        if (Timeout is { } timeout) { options.Timeout(timeout); }
        if (Backoff is not null) { options.Backoff(Backoff); }
        if (Key is not null) { options.Key(Key); }
        if (ExpiresAt is { } expiresAt) { options.ExpiresAt(expiresAt); }
        if (Lifetime is { } lifetime) { options.Lifetime(lifetime); }
    }
}
