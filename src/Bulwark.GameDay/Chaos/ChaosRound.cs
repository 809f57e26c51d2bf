using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Bulwark.GameDay.Api;

namespace Bulwark.GameDay.Chaos;

/// <summary>
/// One round of the campaign: producers enqueue the plan's <c>demo.trace</c> jobs through the API and cancel some,
/// while the faults hit the fleet at their planned moments; then every process is brought back, the queue settles,
/// and the final state of each job is read back. Returns the round's history.
/// </summary>
internal sealed partial class ChaosRound(Deployment d, ChaosFleet fleet, ChaosPlan plan, string traceDirectory)
{
    private readonly ConcurrentQueue<AckRecord> _acks = new();
    private readonly ConcurrentQueue<CancelRecord> _cancels = new();
    private readonly ConcurrentQueue<Task> _cancelling = new();
    private readonly ConcurrentDictionary<long, long> _seenCompleted = new();
    private int _unanswered;

    /// <summary>Enqueues that got no answer (the server was down or died mid-request): maybe stored, never a promise.</summary>
    public int Unanswered => _unanswered;

    public bool Settled { get; private set; }

    public async Task<ChaosHistory> RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(traceDirectory);
        await fleet.EnsureUpAsync(cancellationToken);

        // Rounds share the store; ids rise, so this round's jobs (acknowledged or not) are those above the last one before it.
        var floor = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Select(j => j.Id).DefaultIfEmpty(0).Max();
        var start = d.Time.GetTimestamp();
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watching = WatchCompletionsAsync(floor, stopWatching.Token);
        var producers = new[] { 0, 1 }.Select(p => ProduceAsync(plan.Jobs.Where(j => j.Index % 2 == p).ToArray(), start, cancellationToken)).ToArray();
        foreach (var fault in plan.Faults)
        {
            await UntilAsync(start, fault.At, cancellationToken);
            if (await fleet.InjectAsync(fault, cancellationToken) is { } done)
            {
                if (d.InjectedAt is null)
                {
                    d.Inject(done);
                }
                else
                {
                    d.Mark("fault", done);
                }
            }
        }

        await Task.WhenAll(producers);
        while (_cancelling.TryDequeue(out var cancel))
        {
            await cancel;
        }

        await fleet.EnsureUpAsync(cancellationToken);
        Settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 90), cancellationToken);
        await stopWatching.CancelAsync();
        await watching;
        var finals = new List<FinalRecord>();
        foreach (var row in await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken, above: floor))
        {
            finals.Add(Final(await d.Api.GetJobAsync(row.Id, cancellationToken)));
        }

        var history = new ChaosHistory([.. _acks], [.. _cancels], TraceRecord.ReadAll(traceDirectory), finals,
            [.. _seenCompleted.Select(s => new SeenRecord(s.Key, s.Value)).OrderBy(s => s.AtUnixMs)]);
        await File.WriteAllLinesAsync(Path.Combine(traceDirectory, "history.txt"), history.Lines(), cancellationToken);
        return history;
    }

    /// <summary>
    /// Polls the round's completed jobs while it runs and notes when each was first listed completed: the checker then
    /// knows a job completed before any later run of it, whatever result the store keeps in the end.
    /// </summary>
    private async Task WatchCompletionsAsync(long floor, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var (answered, rows) = await TryAsync(() => d.Api.ListJobsAsync(Deployment.Queue, "completed", cancellationToken, above: floor), cancellationToken);

                // Taken after the answer: whatever it listed completed was completed before this moment.
                var seen = Now();
                foreach (var row in answered ? rows : [])
                {
                    _seenCompleted.TryAdd(row.Id, seen);
                }

                // A sampling period, not a synchronisation: the watcher records what it sees whenever it looks.
                await Task.Delay(TimeSpan.FromMilliseconds(250), d.Time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The round settled: the watch is over.
        }
    }

    private async Task ProduceAsync(IReadOnlyList<PlannedJob> jobs, long start, CancellationToken cancellationToken)
    {
        foreach (var job in jobs)
        {
            await UntilAsync(start, job.At, cancellationToken);
            var (answered, (_, id)) = await TryAsync(() => d.Api.EnqueueAsync(new
            {
                queue = Deployment.Queue,
                type = "demo.trace",
                payload = new { dir = traceDirectory, ms = job.Ms, fail = job.Fail },
                priority = job.Priority,
                max_attempts = 8,
                backoff = "fixed(250ms)",
            }, cancellationToken), cancellationToken);
            if (!answered)
            {
                Interlocked.Increment(ref _unanswered);
            }

            if (id is not { } acknowledged)
            {
                continue;
            }

            _acks.Enqueue(new AckRecord(acknowledged, Now()));
            if (job.CancelAfter is { } after)
            {
                _cancelling.Enqueue(CancelAsync(acknowledged, after, cancellationToken));
            }
        }
    }

    private async Task CancelAsync(long id, TimeSpan after, CancellationToken cancellationToken)
    {
        await Task.Delay(after, d.Time, cancellationToken);
        var (answered, answer) = await TryAsync(() => d.Api.PostJsonAsync($"api/v1/jobs/{id}/cancel", "{}", cancellationToken), cancellationToken);
        if (answered)
        {
            var said = answer.Status switch
            {
                200 => "cancelled",
                202 => "cancellation_requested",
                409 => "conflict",
                var other => $"status-{other}",
            };
            _cancels.Enqueue(new CancelRecord(id, said, Now()));
        }
    }

    /// <summary>The answer, or not answered when the server gave none or a torn one (it was killed, or is restarting): no answer is no promise.</summary>
    private static async Task<(bool Answered, T Value)> TryAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return (true, await call());
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException or System.Text.Json.JsonException)
        {
            return (false, default!);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, default!);
        }
    }

    private Task UntilAsync(long start, TimeSpan at, CancellationToken cancellationToken)
    {
        var wait = at - d.Time.GetElapsedTime(start);

        // Pacing the plan, not synchronising a test: each event happens at its planned moment.
        return wait > TimeSpan.Zero ? Task.Delay(wait, d.Time, cancellationToken) : Task.CompletedTask;
    }

    private long Now() => d.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private static FinalRecord Final(JobDetail job)
    {
        long? resultEpoch = null;
        if (job.Result is { } result && ResultEpoch().Match(result) is { Success: true } m)
        {
            resultEpoch = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        var failed = job.Errors.Select(e => FailedAt().Match(e.Message)).Where(m => m.Success)
            .Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        return new FinalRecord(job.Job.Id, job.Job.State, job.LeaseEpoch, resultEpoch, failed);
    }

    [GeneratedRegex("\"epoch\"\\s*:\\s*(\\d+)")]
    private static partial Regex ResultEpoch();

    [GeneratedRegex(@"demo\.trace: attempt \d+ at lease (\d+) fails")]
    private static partial Regex FailedAt();
}
