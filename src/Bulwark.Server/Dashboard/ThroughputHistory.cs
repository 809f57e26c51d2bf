using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Server.Dashboard;

/// <summary>
/// Per queue, jobs completed and jobs that ended failed (Failed or DeadLetter) in each of the last 60 minutes, from the
/// growth of the queue counts between samples. Works whichever process ran the jobs. A shrinking count (retention purge,
/// a dead letter retried) adds nothing rather than a negative.
/// </summary>
internal sealed class ThroughputHistory
{
    public const int Minutes = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, QueueSeries> _queues = new(StringComparer.Ordinal);

    public void Observe(IReadOnlyList<QueueStats> queues, DateTimeOffset now)
    {
        var minute = MinuteOf(now);
        lock (_lock)
        {
            foreach (var queue in queues)
            {
                var completed = queue[JobState.Completed];
                var failed = queue[JobState.Failed] + queue[JobState.DeadLetter];
                if (!_queues.TryGetValue(queue.Queue, out var series))
                {
                    // The first sample is a baseline: what finished before the dashboard was watching is not this hour's throughput.
                    _queues[queue.Queue] = new QueueSeries(completed, failed);
                    continue;
                }

                series.Add(minute, Math.Max(0, completed - series.LastCompleted), Math.Max(0, failed - series.LastFailed));
                series.LastCompleted = completed;
                series.LastFailed = failed;
            }
        }
    }

    /// <summary>Completed and failed per minute, oldest first, the current minute last.</summary>
    public (long[] Completed, long[] Failed) Series(string queue, DateTimeOffset now)
    {
        var completed = new long[Minutes];
        var failed = new long[Minutes];
        var current = MinuteOf(now);
        lock (_lock)
        {
            if (_queues.TryGetValue(queue, out var series))
            {
                for (var i = 0; i < Minutes; i++)
                {
                    var minute = current - (Minutes - 1 - i);
                    var slot = Slot(minute);
                    if (series.Minute[slot] == minute)
                    {
                        completed[i] = series.Completed[slot];
                        failed[i] = series.Failed[slot];
                    }
                }
            }
        }

        return (completed, failed);
    }

    private static long MinuteOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / 60;

    private static int Slot(long minute) => (int)(minute % Minutes);

    private sealed class QueueSeries(long completed, long failed)
    {
        public long LastCompleted { get; set; } = completed;
        public long LastFailed { get; set; } = failed;
        public long[] Minute { get; } = Enumerable.Repeat(-1L, Minutes).ToArray();
        public long[] Completed { get; } = new long[Minutes];
        public long[] Failed { get; } = new long[Minutes];

        public void Add(long minute, long completed, long failed)
        {
            var slot = Slot(minute);
            if (Minute[slot] != minute)
            {
                Minute[slot] = minute;
                Completed[slot] = 0;
                Failed[slot] = 0;
            }

            Completed[slot] += completed;
            Failed[slot] += failed;
        }
    }
}
