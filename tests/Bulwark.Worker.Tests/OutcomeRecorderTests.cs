using Bulwark.Diagnostics;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class OutcomeRecorderTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestJobs.Clock();
    private readonly InMemoryJobStore _store;
    private readonly LeaseBook _book = new(new BulwarkMetrics(), NullLogger.Instance);
    private readonly OutcomeCompleter _completer;
    private readonly CircuitBreakers _circuits;
    private readonly OutcomeRecorder _recorder;

    public OutcomeRecorderTests()
    {
        var metrics = new BulwarkMetrics();
        _store = new InMemoryJobStore(_time);
        _completer = new OutcomeCompleter(_store, 10, metrics, NullLogger.Instance);
        _circuits = new CircuitBreakers(threshold: 2, TimeSpan.FromSeconds(30), _time, metrics);
        _recorder = new OutcomeRecorder(_book, _completer, _circuits, 2, new JobSignal(), _time, metrics, NullLogger.Instance);
    }

    [Fact]
    public async Task The_slot_frees_at_once_and_the_lease_stays_renewed_until_the_outcome_is_written()
    {
        var run = await StartAsync();

        var recording = _recorder.RecordAsync(run, JobOutcome.Complete(run.Job.Token), TimeSpan.FromSeconds(1));

        Assert.Equal((0, 1), (_book.RunningCount, _book.FinishingCount));
        Assert.Contains(run.Job.Token, _book.Renewals().Tokens);
        Assert.False(recording.IsCompleted);
        Assert.Equal(1, await _completer.RunOnceAsync());
        await recording;
        Assert.True(_book.NothingInFlight);
        Assert.Equal(JobState.Completed, (await _store.GetJobAsync(run.Job.Id))!.State);
    }

    [Fact]
    public async Task Written_failures_open_the_circuit_and_a_refused_outcome_does_not_count()
    {
        var stale = await StartAsync();
        var refused = _recorder.RecordAsync(stale, Failure(stale.Job with { Token = stale.Job.Token with { Epoch = stale.Job.Token.Epoch + 1 } }), TimeSpan.Zero);
        await _completer.RunOnceAsync();
        await refused;
        Assert.Equal(CircuitState.Closed, _circuits.GetState("work"));

        for (var i = 0; i < 2; i++)
        {
            var run = await StartAsync();
            var recording = _recorder.RecordAsync(run, Failure(run.Job), TimeSpan.Zero);
            await _completer.RunOnceAsync();
            await recording;
        }

        Assert.Equal(CircuitState.Open, _circuits.GetState("work"));
    }

    [Fact]
    public async Task A_trial_given_back_unstarted_is_renewed_until_written_and_then_frees_its_circuits_trial()
    {
        _circuits.RecordFailure("work");
        _circuits.RecordFailure("work");
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(_circuits.TryStartTrial("work"));
        var job = (await LeaseAsync()).Single();

        _recorder.GiveBack(new LeasedAttempt(job, IsTrial: true), JobOutcome.Release(job.Token, new JobError(job.Attempt, "w-1", null, _time.GetUtcNow(), FailureCategory.Shutdown, "given back")));

        Assert.Contains(job.Token, _book.Renewals().Tokens);
        Assert.Empty(_circuits.AwaitingTrial());
        await _completer.RunOnceAsync();
        Assert.True(_book.NothingInFlight);
        Assert.Equal(["work"], _circuits.AwaitingTrial());
        Assert.Equal(JobState.Ready, (await _store.GetJobAsync(job.Id))!.State);
    }

    private JobOutcome Failure(LeasedJob job) =>
        JobOutcome.Retry(job.Token, new JobError(job.Attempt, "w-1", _time.GetUtcNow(), _time.GetUtcNow(), FailureCategory.Temporary, "down"), TimeSpan.FromHours(1));

    private async Task<RunningJob> StartAsync()
    {
        var run = TestJobs.Running(_time, (await LeaseAsync()).Single(), Task.CompletedTask);
        _book.Start(run);
        Assert.True(run.TrySettle());
        return run;
    }

    private async Task<IReadOnlyList<LeasedJob>> LeaseAsync()
    {
        await _store.EnqueueAsync([JobValidator.Validate(new NewJob { Queue = "default", Type = "work", Payload = "{}" })]);
        return await _store.LeaseAsync(new LeaseRequest("w-1", ["default"], 1, TimeSpan.FromSeconds(10)));
    }
}
