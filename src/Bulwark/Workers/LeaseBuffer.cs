using Bulwark.Storage;

namespace Bulwark.Workers;

/// <summary>
/// Jobs leased ahead of free slots (<see cref="WorkerOptions.LeaseAhead"/>), waiting in lease order to start here. Their
/// leases are held: renewed by every heartbeat, fenced like any other. One lease call and one finish batch then carry
/// more jobs. A buffered job never starts once its lease may have lapsed (no renewal confirmed it for a whole lease), and
/// whatever is still buffered when the worker cannot start it soon is given back unstarted, its attempt refunded.
/// </summary>
/// <remarks>The leasing loop adds and takes; the heartbeat renews and drops. One lock: the buffer is small.</remarks>
internal sealed class LeaseBuffer
{
    private readonly object _gate = new();
    private readonly LinkedList<Entry> _entries = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Buffers <paramref name="attempts"/> (in lease order), their leases valid until <paramref name="validUntil"/> unless renewed.</summary>
    public void Add(IEnumerable<LeasedAttempt> attempts, DateTimeOffset validUntil)
    {
        lock (_gate)
        {
            foreach (var attempt in attempts)
            {
                _entries.AddLast(new Entry(attempt) { ValidUntil = validUntil.UtcTicks });
            }
        }
    }

    /// <summary>
    /// Takes up to <paramref name="count"/> jobs to start now, oldest lease first. Jobs whose lease may have lapsed at
    /// <paramref name="now"/> are taken too, into <paramref name="lapsed"/>: they must not start.
    /// </summary>
    public IReadOnlyList<LeasedAttempt> Take(int count, DateTimeOffset now, List<LeasedAttempt> lapsed)
    {
        var taken = new List<LeasedAttempt>(Math.Min(count, 64));
        lock (_gate)
        {
            while (taken.Count < count && _entries.First is { } first)
            {
                _entries.RemoveFirst();
                (now.UtcTicks >= first.Value.ValidUntil ? lapsed : taken).Add(first.Value.Attempt);
            }
        }

        return taken;
    }

    /// <summary>Takes every buffered job (a drain, or a pass that cannot start them soon).</summary>
    public IReadOnlyList<LeasedAttempt> TakeAll()
    {
        lock (_gate)
        {
            var all = _entries.Select(e => e.Attempt).ToArray();
            _entries.Clear();
            return all;
        }
    }

    /// <summary>Takes the buffered jobs <paramref name="match"/> selects, such as those of a type whose circuit opened.</summary>
    public IReadOnlyList<LeasedAttempt> TakeWhere(Func<LeasedAttempt, bool> match)
    {
        lock (_gate)
        {
            var taken = new List<LeasedAttempt>();
            for (var node = _entries.First; node is not null;)
            {
                var next = node.Next;
                if (match(node.Value.Attempt))
                {
                    taken.Add(node.Value.Attempt);
                    _entries.Remove(node);
                }

                node = next;
            }

            return taken;
        }
    }

    /// <summary>The buffered leases a heartbeat renews.</summary>
    public IReadOnlyList<LeaseToken> Tokens()
    {
        lock (_gate)
        {
            return _entries.Select(e => e.Attempt.Job.Token).ToArray();
        }
    }

    /// <summary>
    /// Applies a beat's answer: a lost lease drops its job (another worker may hold it now); a job renewed by the beat
    /// holds until <paramref name="renewedUntil"/>. Returns the jobs a user cancelled, taken out to end as cancelled.
    /// </summary>
    public IReadOnlyList<LeasedAttempt> Apply(HeartbeatResult result, IReadOnlyCollection<LeaseToken> renewed, DateTimeOffset? renewedUntil)
    {
        if (Count == 0)
        {
            return [];
        }

        var lost = result.Lost.ToHashSet();
        var cancel = result.CancelRequested.ToHashSet();
        var sent = renewed as ISet<LeaseToken> ?? renewed.ToHashSet();
        var cancelled = new List<LeasedAttempt>();
        lock (_gate)
        {
            for (var node = _entries.First; node is not null;)
            {
                var next = node.Next;
                var token = node.Value.Attempt.Job.Token;
                if (lost.Contains(token) || cancel.Contains(token))
                {
                    _entries.Remove(node);
                    if (!lost.Contains(token))
                    {
                        cancelled.Add(node.Value.Attempt);
                    }
                }
                else if (renewedUntil is { } until && sent.Contains(token))
                {
                    node.Value.ValidUntil = until.UtcTicks;
                }

                node = next;
            }
        }

        return cancelled;
    }

    private sealed class Entry(LeasedAttempt attempt)
    {
        public LeasedAttempt Attempt { get; } = attempt;

        public long ValidUntil { get; set; }
    }
}
