using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Workers;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class AttemptOutcomesTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestJobs.Clock();
    private readonly AttemptOutcomes _outcomes;

    public AttemptOutcomesTests() => _outcomes = new AttemptOutcomes("w-1", new OutcomePolicy(retrySystemErrors: true, () => 0.5), _time);

    [Fact]
    public void A_handler_exception_is_classified_and_retried_with_the_worker_and_times_recorded()
    {
        var run = TestJobs.Running(_time, TestJobs.Leased(1));
        _time.Advance(TimeSpan.FromSeconds(3));

        var outcome = _outcomes.Failed(run, new InvalidOperationException("down"));

        Assert.Equal(OutcomeKind.Retry, outcome.Kind);
        var error = outcome.Error!;
        Assert.Equal((FailureCategory.Temporary, "down", "w-1"), (error.Category, error.Message, error.WorkerId));
        Assert.Equal(run.StartedAt, error.StartedAt);
        Assert.Equal(_time.GetUtcNow(), error.EndedAt);
        Assert.Equal(typeof(InvalidOperationException).FullName, error.ExceptionType);
    }

    [Theory]
    [InlineData(nameof(CancelReason.Timeout), FailureCategory.Timeout, OutcomeKind.Retry)]
    [InlineData(nameof(CancelReason.Shutdown), FailureCategory.Shutdown, OutcomeKind.Release)]
    [InlineData(nameof(CancelReason.CancelRequested), FailureCategory.Cancelled, OutcomeKind.Cancelled)]
    [InlineData(nameof(CancelReason.LeaseLost), FailureCategory.Crash, OutcomeKind.Retry)]
    public void Why_the_token_was_cancelled_names_the_category_before_the_exception_does(string reason, FailureCategory category, OutcomeKind kind)
    {
        var run = TestJobs.Running(_time, TestJobs.Leased(1));
        run.Cancel(Enum.Parse<CancelReason>(reason)); // CancelReason is internal: a test's parameter cannot be

        var outcome = _outcomes.Failed(run, new OperationCanceledException());

        Assert.Equal((category, kind), (outcome.Error!.Category, outcome.Kind));
    }

    [Fact]
    public void An_abandoned_handler_on_its_last_attempt_goes_to_dead_letter_as_a_timeout()
    {
        var run = TestJobs.Running(_time, TestJobs.Leased(1, attempt: 3, maxAttempts: 3));
        run.Cancel(CancelReason.Timeout);

        var outcome = _outcomes.Abandoned(run, TimeSpan.FromSeconds(5));

        Assert.Equal(OutcomeKind.DeadLetter, outcome.Kind);
        Assert.Equal(FailureCategory.Timeout, outcome.Error!.Category);
        Assert.Contains("abandoned", outcome.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jobs_that_never_ran_or_were_cut_short_by_the_drain_go_back_uncharged()
    {
        var job = TestJobs.Suspect(1);
        var unstarted = _outcomes.GivenBack(job, "why");
        Assert.Equal((OutcomeKind.Release, FailureCategory.Shutdown, "Given back unstarted: why."), (unstarted.Kind, unstarted.Error!.Category, unstarted.Error.Message));
        Assert.Null(unstarted.Error.StartedAt);

        var cancelled = _outcomes.CancelledBeforeStart(job);
        Assert.Equal((OutcomeKind.Cancelled, FailureCategory.Cancelled), (cancelled.Kind, cancelled.Error!.Category));

        var drained = _outcomes.ReleasedAtShutdown(TestJobs.Running(_time, job));
        Assert.Equal((OutcomeKind.Release, FailureCategory.Shutdown), (drained.Kind, drained.Error!.Category));
    }
}
