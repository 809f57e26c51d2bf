using System.Text.Json;
using Bulwark.Storage;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>What a handler knows about the job it runs, and how it reports progress.</summary>
public sealed class JobContext
{
    private readonly IJobStore _store;
    private readonly JsonSerializerOptions _json;
    private readonly Action _onLeaseLost;

    /// <summary>
    /// A context for a job leased from <paramref name="store"/>, for hosts that run handlers themselves and for tests
    /// (<c>Bulwark.Testing.JobHarness</c> builds one). Progress and checkpoints are written to the store, fenced by the
    /// job's lease; <paramref name="cancellationToken"/> is what the handler sees as <see cref="CancellationToken"/>.
    /// </summary>
    public JobContext(LeasedJob job, IJobStore store, string workerId, CancellationToken cancellationToken, JsonSerializerOptions? serializerOptions = null, ILogger? logger = null)
        : this(
            job ?? throw new ArgumentNullException(nameof(job)),
            workerId ?? throw new ArgumentNullException(nameof(workerId)),
            store ?? throw new ArgumentNullException(nameof(store)),
            serializerOptions ?? new Client.JobClientOptions().SerializerOptions,
            logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            cancellationToken,
            static () => { })
    {
    }

    internal JobContext(LeasedJob job, string workerId, IJobStore store, JsonSerializerOptions json, ILogger logger, CancellationToken cancellationToken, Action onLeaseLost)
    {
        Job = job;
        WorkerId = workerId;
        _store = store;
        _json = json;
        Logger = logger;
        CancellationToken = cancellationToken;
        _onLeaseLost = onLeaseLost;
        Checkpoint = job.Checkpoint;
        Progress = job.Progress;
    }

    /// <summary>The job id.</summary>
    public long JobId => Job.Id;

    /// <summary>The queue.</summary>
    public string Queue => Job.Queue;

    /// <summary>The job type.</summary>
    public string Type => Job.Type;

    /// <summary>This attempt's number (1 for the first run).</summary>
    public int Attempt => Job.Attempt;

    /// <summary>Attempts allowed in all.</summary>
    public int MaxAttempts => Job.MaxAttempts;

    /// <summary>The worker running it.</summary>
    public string WorkerId { get; }

    /// <summary>The last saved checkpoint (JSON), given back on retry; null when none was saved.</summary>
    public string? Checkpoint { get; private set; }

    /// <summary>The last reported progress, 0–100.</summary>
    public int Progress { get; private set; }

    /// <summary>A logger whose scope carries the job id.</summary>
    public ILogger Logger { get; }

    /// <summary>Fires on execution timeout, lease loss, a cancellation request, and shutdown.</summary>
    public CancellationToken CancellationToken { get; }

    internal LeasedJob Job { get; }

    /// <summary>The checkpoint read as <typeparamref name="T"/>, or default when none was saved.</summary>
    public T? GetCheckpoint<T>() => Checkpoint is null ? default : JsonSerializer.Deserialize<T>(Checkpoint, _json);

    /// <summary>
    /// Saves progress (0–100) and optionally a checkpoint (JSON), fenced by this lease. Returns false when the lease was
    /// lost: the job belongs to another run now, this handler's token is cancelled and it should stop.
    /// </summary>
    public async Task<bool> ReportProgressAsync(int progress, string? checkpoint = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(progress, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(progress, 100);
        var result = await _store.SaveProgressAsync(Job.Token, progress, checkpoint, CancellationToken);
        if (result != FenceResult.Ok)
        {
            _onLeaseLost();
            return false;
        }

        Progress = progress;
        Checkpoint = checkpoint ?? Checkpoint;
        return true;
    }

    /// <summary>Saves progress and a checkpoint object (serialized to JSON). See <see cref="ReportProgressAsync(int, string?)"/>.</summary>
    public Task<bool> ReportProgressAsync<TCheckpoint>(int progress, TCheckpoint checkpoint) =>
        ReportProgressAsync(progress, JsonSerializer.Serialize(checkpoint, _json));
}
