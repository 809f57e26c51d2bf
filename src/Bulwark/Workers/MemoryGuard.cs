using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// The soft memory limit (<see cref="WorkerOptions.MemoryLimitBytes"/>): above it the worker leases nothing until it falls back under. Over the limit a full
/// compacting collection runs (at most one per <see cref="CollectInterval"/>) before judging again: memory a finished
/// job left to the collector must not keep the worker paused for good.
/// </summary>
internal sealed class MemoryGuard(WorkerOptions options, Func<long> workingSet, Action collect, TimeProvider time, ILogger logger)
{
    // A full compacting collection is costly (it blocks every thread): at most one per interval while over the limit.
    internal static readonly TimeSpan CollectInterval = TimeSpan.FromSeconds(10);

    private long? _lastCollectTimestamp;
    private long _last;
    private volatile bool _paused;

    /// <summary>True while the working set is above the soft limit (leasing paused).</summary>
    public bool IsOverLimit => _paused;

    /// <summary>Reads the working set now (parsing /proc/self/status: too dear for every leasing pass without a limit).</summary>
    public long Read()
    {
        var memory = workingSet();
        Interlocked.Exchange(ref _last, memory);
        return memory;
    }

    /// <summary>For a leasing pass: without a limit the pass only reports memory, and the heartbeat's reading (every 2 s) is fresh enough.</summary>
    public long ReadForPass() => options.MemoryLimitBytes is null ? Interlocked.Read(ref _last) : Read();

    /// <summary>Judges <paramref name="memory"/> against the limit; a collection on the way updates it.</summary>
    public bool AllowsLeasing(ref long memory)
    {
        if (options.MemoryLimitBytes is not { } limit)
        {
            return true;
        }

        if (memory > limit && (_lastCollectTimestamp is not { } last || time.GetElapsedTime(last) >= CollectInterval))
        {
            _lastCollectTimestamp = time.GetTimestamp();
            collect();
            memory = Read();
            WorkerLog.MemoryCollected(logger, memory, limit);
        }

        if (memory > limit)
        {
            if (!_paused)
            {
                _paused = true;
                WorkerLog.MemoryOverLimit(logger, memory, limit);
            }

            return false;
        }

        if (_paused)
        {
            _paused = false;
            WorkerLog.MemoryBackUnder(logger, memory);
        }

        return true;
    }
}
