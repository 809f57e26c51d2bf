using System.Collections.Concurrent;
using Bulwark.Jobs;

namespace Bulwark.Postgres;

/// <summary>
/// Parsed backoff texts of leased jobs: a fleet uses a handful of policies, so the lease path need not parse one per job.
/// Bounded in case jobs carry many distinct step lists.
/// </summary>
internal sealed class BackoffTexts
{
    private const int Capacity = 256;
    private readonly ConcurrentDictionary<string, BackoffPolicy> _parsed = new(StringComparer.Ordinal);

    public BackoffPolicy Parse(string text)
    {
        if (_parsed.TryGetValue(text, out var policy))
        {
            return policy;
        }

        policy = BackoffPolicy.Parse(text);
        if (_parsed.Count >= Capacity)
        {
            _parsed.Clear();
        }

        _parsed[text] = policy;
        return policy;
    }
}
