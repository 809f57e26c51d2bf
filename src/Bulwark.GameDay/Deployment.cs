using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Bulwark.GameDay.Api;
using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Load;
using Bulwark.GameDay.Processes;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay;

/// <summary>
/// The system under test of one scenario: a <c>bulwark serve</c> process (API, maintenance, no workers), any number of
/// <c>bulwark worker</c> processes on one store, the harness's append file, and the incident's timeline.
/// </summary>
internal sealed class Deployment : IAsyncDisposable
{
    public const string Queue = "gameday";

    private readonly GameDayOptions _options;
    private readonly TimeProvider _time;
    private readonly List<BulwarkProcess> _processes = [];
    private readonly List<(string Event, DateTimeOffset At, string Detail)> _timeline = [];
    private readonly Dictionary<string, string> _serverEnvironment = [];
    private int _port;

    public Deployment(GameDayOptions options, string scenario, TimeProvider time)
    {
        _options = options;
        _time = time;
        Scenario = scenario;
        Directory = Path.Combine(options.WorkDirectory, scenario);
        System.IO.Directory.CreateDirectory(Directory);
        StorePath = options.StorePrefix is { } prefix ? $"{prefix}.{scenario}.db" : Path.Combine(Directory, "store.db");
        if (options.Postgres is null)
        {
            foreach (var file in new[] { StorePath, StorePath + "-wal", StorePath + "-shm" })
            {
                File.Delete(file);
            }
        }

        AppendPath = Path.Combine(Directory, "executions.log");
        File.Delete(AppendPath);
        StartedAt = time.GetUtcNow();
    }

    public string Scenario { get; }

    /// <summary>Puts the store in another folder (such as a small disk the scenario fills); call before starting any process.</summary>
    public void RelocateStore(string directory) => StorePath = Path.Combine(directory, "store.db");

    public string Directory { get; }

    public string StorePath { get; private set; }

    public string AppendPath { get; }

    public bool Quick => _options.Quick;

    /// <summary>The fresh PostgreSQL database of this scenario, when the game day runs on PostgreSQL.</summary>
    public Storage.PostgresDatabase? Postgres { get; private set; }

    /// <summary>On PostgreSQL, creates this scenario's database and points the store at it; on SQLite, nothing to do.</summary>
    public async Task PrepareStoreAsync(CancellationToken cancellationToken)
    {
        if (_options.Postgres is { } server)
        {
            Postgres = await Storage.PostgresDatabase.CreateAsync(server, Scenario, cancellationToken);
            StorePath = Postgres.ConnectionString;
        }
    }

    public DateTimeOffset StartedAt { get; }

    /// <summary>When the failure was injected (T+0); null until then.</summary>
    public DateTimeOffset? InjectedAt { get; private set; }

    /// <summary>When every acknowledged job had reached its end; null until then.</summary>
    public DateTimeOffset? RecoveredAt { get; private set; }

    public BulwarkApi Api { get; private set; } = null!;

    public BulwarkProcess? Server { get; private set; }

    public TimeProvider Time => _time;

    public LoadGenerator NewLoad(string? appendPath = null) => new(Api, Queue, appendPath ?? AppendPath, _time);

    /// <summary>Environment for the server process (configuration such as hard limits), set before <see cref="StartServerAsync"/>.</summary>
    public void ConfigureServer(string key, string value) => _serverEnvironment[key] = value;

    public async Task StartServerAsync(CancellationToken cancellationToken)
    {
        if (_port == 0)
        {
            _port = FreePort();
            Api = new BulwarkApi(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_port}/"), Timeout = TimeSpan.FromSeconds(30) });
        }

        Server = Track(BulwarkProcess.Start(
            "server", _options.CliDll,
            ["serve", "--urls", $"http://127.0.0.1:{_port}", "--store", StorePath, "--workers", "0"],
            Path.Combine(Directory, "server.log"), _serverEnvironment));
        if (!await WaitUntilAsync(Api.IsReadyAsync, TimeSpan.FromSeconds(60), cancellationToken))
        {
            throw new InvalidOperationException($"bulwark serve did not become ready within 60 s; its output: {Server.Output}");
        }
    }

    /// <summary>Starts <c>bulwark worker</c> on the gameday queue with short leases, so failures show within seconds.</summary>
    public BulwarkProcess StartWorker(string name, int concurrency, params string[] extra)
    {
        string[] arguments =
        [
            "worker", "--store", StorePath, "--queues", Queue, "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture), "--name", name,
            "--lease", "3s", "--heartbeat", "1s", "--poll", "100ms", .. extra,
        ];
        return Track(BulwarkProcess.Start(name, _options.CliDll, arguments, Path.Combine(Directory, name + ".log")));
    }

    /// <summary>Waits until the worker has registered (its first log line says so).</summary>
    public async Task WaitForWorkerAsync(BulwarkProcess worker, CancellationToken cancellationToken)
    {
        if (!await WaitUntilAsync(_ => Task.FromResult(worker.Output.Contains("registered", StringComparison.Ordinal) || worker.HasExited), TimeSpan.FromSeconds(60), cancellationToken)
            || worker.HasExited)
        {
            throw new InvalidOperationException($"worker {worker.Name} did not start; its output: {worker.Output}");
        }
    }

    public void Progress(string message) =>
        _options.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[gameday {Scenario} +{(_time.GetUtcNow() - StartedAt).TotalSeconds,6:0.0}s] {message}"));

    /// <summary>Marks T+0: the failure is injected now.</summary>
    public void Inject(string detail)
    {
        InjectedAt = _time.GetUtcNow();
        Mark("failure injected", detail);
    }

    public void Recovered(string detail)
    {
        RecoveredAt = _time.GetUtcNow();
        Mark("full recovery", detail);
    }

    /// <summary>
    /// When service came back (workers reclaimed the jobs, the circuit closed, workers returned): it splits "during" from
    /// "after" in the throughput. The first "automatic response" unless a scenario marks a later moment with <see cref="Restored"/>.
    /// </summary>
    public DateTimeOffset? RestoredAt { get; private set; }

    public void Restored(string what, string detail)
    {
        Mark(what, detail);
        lock (_timeline)
        {
            RestoredAt = _timeline[^1].At;
        }
    }

    public void Mark(string what, string detail)
    {
        // Scenarios that inject faults from several tasks (chaos) mark the timeline concurrently.
        lock (_timeline)
        {
            _timeline.Add((what, _time.GetUtcNow(), detail));
            if (what == "automatic response" && RestoredAt is null)
            {
                RestoredAt = _timeline[^1].At;
            }
        }

        Progress($"{what}: {detail}");
    }

    public IReadOnlyList<TimelineEntry> Timeline()
    {
        var zero = InjectedAt ?? StartedAt;
        lock (_timeline)
        {
            return _timeline.Select(t => new TimelineEntry(t.Event, Math.Round((t.At - zero).TotalSeconds, 2), t.Detail)).ToArray();
        }
    }

    /// <summary>Polls a condition until it holds or the timeout passes; true when it held.</summary>
    public async Task<bool> WaitUntilAsync(Func<CancellationToken, Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            if (await condition(cancellationToken))
            {
                return true;
            }

            if (_time.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
        }
    }

    /// <summary>Waits until none of the queue's jobs is waiting or running any more; true when it settled.</summary>
    public Task<bool> WaitForSettledAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitUntilAsync(async ct =>
        {
            var counts = await Api.QueueCountsAsync(Queue, ct);
            return counts.Count > 0 && new[] { "pending", "scheduled", "ready", "running" }.All(s => counts.GetValueOrDefault(s) == 0);
        }, timeout, cancellationToken);

    /// <summary>Counts from outside: the append file, the store's rows and the acknowledgements.</summary>
    public async Task<Measurement> MeasureAsync(LoadGenerator load, CancellationToken cancellationToken, IReadOnlyList<long>? extraAcknowledged = null, string? appendPath = null)
    {
        var jobs = await Api.ListJobsAsync(Queue, null, cancellationToken);
        var acks = load.Acks;
        var completed = jobs.Where(j => j.State == "completed").ToArray();
        var tally = ExecutionTally.From(acks, ExecutionTally.ReadLines(appendPath ?? AppendPath), completed.Select(j => j.Id).ToHashSet());
        var latencies = completed.Where(j => j.FinishedAt is not null).Select(j => (j.FinishedAt!.Value - j.CreatedAt).TotalSeconds).Order().ToArray();
        var zero = InjectedAt ?? StartedAt;
        var end = completed.Select(j => j.FinishedAt ?? zero).DefaultIfEmpty(zero).Max();
        var restored = RestoredAt ?? RecoveredAt ?? end;
        var firstAck = acks.Count > 0 ? acks.Min(a => a.At) : StartedAt;
        double Rate(DateTimeOffset from, DateTimeOffset to)
        {
            var seconds = (to - from).TotalSeconds;
            return seconds <= 0.05 ? 0 : Math.Round(completed.Count(j => j.FinishedAt >= from && j.FinishedAt < to) / seconds, 1);
        }

        var impact = new Impact
        {
            Enqueued = load.Attempts + (extraAcknowledged?.Count ?? 0),
            Acknowledged = acks.Count + (extraAcknowledged?.Count ?? 0),
            Completed = completed.Length,
            Lost = tally.LostIds.Count,
            ExecutedTwice = tally.DuplicatedIds.Count,
            Failed = jobs.Count(j => j.State == "failed"),
            DeadLettered = jobs.Count(j => j.State == "dead_letter"),
            PeakLatencySeconds = latencies.Length == 0 ? 0 : Math.Round(latencies[^1], 3),
            P95LatencySeconds = latencies.Length == 0 ? 0 : Math.Round(latencies[(int)Math.Ceiling(latencies.Length * 0.95) - 1], 3),
            ThroughputBefore = Rate(firstAck < zero ? firstAck : zero, zero),
            ThroughputDuring = Rate(zero, restored),
            ThroughputAfter = Rate(restored, end.AddMilliseconds(1)),
        };
        return new Measurement(tally, jobs, impact);
    }

    /// <summary>Runs a CLI admin command (such as <c>dlq retry-all</c>) as its own process, as an operator would.</summary>
    public async Task<(int ExitCode, string Output)> RunCliAsync(string[] arguments, CancellationToken cancellationToken)
    {
        using var process = BulwarkProcess.Start("cli", _options.CliDll, arguments, Path.Combine(Directory, "cli.log"));
        if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(60), cancellationToken))
        {
            return (-1, process.Output);
        }

        return (process.ExitCode, process.Output);
    }

    public BulwarkProcess Track(BulwarkProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        Api?.Dispose();
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
