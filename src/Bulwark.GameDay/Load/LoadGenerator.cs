using System.Collections.Concurrent;
using Bulwark.GameDay.Api;

namespace Bulwark.GameDay.Load;

/// <summary>
/// Enqueues <c>demo.append</c> jobs through the HTTP API at a steady rate; each job appends its own sequence number
/// to the harness's file. Only what the API acknowledged counts as a promise.
/// </summary>
internal sealed class LoadGenerator(BulwarkApi api, string queue, string appendPath, TimeProvider time)
{
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly ConcurrentDictionary<int, int> _refusals = new();
    private long _seq;
    private long _attempts;

    public IReadOnlyList<Ack> Acks => [.. _acks];

    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Refused enqueues by HTTP status.</summary>
    public IReadOnlyDictionary<int, int> Refusals => _refusals;

    /// <summary>Enqueues <paramref name="count"/> jobs, <paramref name="perSecond"/> a second, then returns.</summary>
    public async Task RunAsync(int count, double perSecond, CancellationToken cancellationToken, int priority = 0)
    {
        var period = TimeSpan.FromSeconds(1 / perSecond);
        var next = time.GetTimestamp();
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            await EnqueueOneAsync(priority, cancellationToken);
            next += (long)(period.TotalSeconds * time.TimestampFrequency);
            var wait = time.GetElapsedTime(time.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                // Pacing the load, not synchronising a test: the generator keeps a steady rate.
                await Task.Delay(wait, time, cancellationToken);
            }
        }
    }

    /// <summary>Records a job the scenario enqueued itself (with options the generator does not set) under a sequence number.</summary>
    public void Acknowledged(long seq, long id)
    {
        Interlocked.Increment(ref _attempts);
        _acks.Enqueue(new Ack(seq, id, time.GetUtcNow()));
    }

    /// <summary>Enqueues one job and records it when acknowledged.</summary>
    public async Task<ApiAnswer> EnqueueOneAsync(int priority, CancellationToken cancellationToken)
    {
        var seq = Interlocked.Increment(ref _seq);
        Interlocked.Increment(ref _attempts);
        try
        {
            var (answer, id) = await api.EnqueueAsync(Job(seq, priority), cancellationToken);
            if (id is { } acknowledged)
            {
                _acks.Enqueue(new Ack(seq, acknowledged, time.GetUtcNow()));
            }
            else
            {
                _refusals.AddOrUpdate(answer.Status, 1, (_, n) => n + 1);
            }

            return answer;
        }
        catch (HttpRequestException)
        {
            // No answer is no acknowledgement: the job may or may not exist, and is not a promise.
            _refusals.AddOrUpdate(0, 1, (_, n) => n + 1);
            return new ApiAnswer(0, "no answer", null);
        }
    }

    public object Job(long seq, int priority) => new
    {
        queue,
        type = "demo.append",
        payload = new { path = appendPath, line = seq.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        priority,
    };
}
