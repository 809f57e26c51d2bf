using System.Text.Json;
using Bulwark.Jobs;
using Bulwark.Storage;

namespace Bulwark.Testing;

/// <summary>How one attempt run by <see cref="JobHarness"/> ended, and the job as the store holds it afterwards.</summary>
public sealed class JobRunResult
{
    private readonly JsonSerializerOptions _json;

    internal JobRunResult(JobSnapshot job, OutcomeKind outcome, FenceResult fence, Exception? exception, JsonSerializerOptions json)
    {
        Job = job;
        Outcome = outcome;
        Fence = fence;
        Exception = exception;
        _json = json;
    }

    /// <summary>The job after the attempt: its state, errors, progress, checkpoint and result.</summary>
    public JobSnapshot Job { get; }

    /// <summary>What a worker would record: Complete, Retry, Fail, DeadLetter or Cancelled.</summary>
    public OutcomeKind Outcome { get; }

    /// <summary>Whether the store accepted the outcome (<see cref="FenceResult.Ok"/> unless the handler's lease was taken away).</summary>
    public FenceResult Fence { get; }

    /// <summary>The exception the handler threw, or null when it completed.</summary>
    public Exception? Exception { get; }

    /// <summary>True when the handler completed.</summary>
    public bool Succeeded => Outcome == OutcomeKind.Complete;

    /// <summary>The job's state after the attempt (Completed, Scheduled for a retry, Failed, DeadLetter, Cancelled).</summary>
    public JobState State => Job.State;

    /// <summary>The failure category recorded for the attempt, or null when it completed.</summary>
    public FailureCategory? Category => Succeeded ? null : Job.Errors.LastOrDefault()?.Category;

    /// <summary>The last progress the handler reported (0–100).</summary>
    public int Progress => Job.Progress;

    /// <summary>The last checkpoint saved (JSON), or null.</summary>
    public string? Checkpoint => Job.Checkpoint;

    /// <summary>The handler's result as stored (JSON), or null.</summary>
    public string? Result => Job.Result;

    /// <summary>The result read as <typeparamref name="T"/>, or default when there is none.</summary>
    public T? GetResult<T>() => Job.Result is null ? default : JsonSerializer.Deserialize<T>(Job.Result, _json);

    /// <summary>The checkpoint read as <typeparamref name="T"/>, or default when none was saved.</summary>
    public T? GetCheckpoint<T>() => Job.Checkpoint is null ? default : JsonSerializer.Deserialize<T>(Job.Checkpoint, _json);
}
