using Bulwark.Diagnostics;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class LeaseBookTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestJobs.Clock();
    private readonly LeaseBook _book = new(new BulwarkMetrics(), NullLogger.Instance);

    [Fact]
    public void A_heartbeat_renews_running_finishing_and_held_leases_but_not_a_lost_one()
    {
        RunningJob running = Start(1), finishing = Start(2), lost = Start(3);
        _book.MoveToFinishing(finishing);
        lost.Cancel(CancelReason.LeaseLost);
        var held = new LeasedAttempt(TestJobs.Suspect(4), IsTrial: false);
        _book.Hold(held, DateTimeOffset.MaxValue);

        var renewal = _book.Renewals();

        Assert.Equal([1L, 2L, 4L], renewal.Tokens.Select(t => t.JobId).Order());
        Assert.Same(held, renewal.Held);
        Assert.Equal(2, _book.RunningCount);
        Assert.Equal(1, _book.FinishingCount);
    }

    [Fact]
    public void A_lost_lease_cancels_its_running_handler_but_not_one_that_already_ended()
    {
        RunningJob running = Start(1), ended = Start(2);
        Assert.True(ended.TrySettle());

        var cancelled = _book.Apply(new HeartbeatResult([running.Job.Token, ended.Job.Token], [], 0), _book.Renewals());

        Assert.Null(cancelled);
        Assert.Equal(CancelReason.LeaseLost, running.Reason);
        Assert.True(running.Token.IsCancellationRequested);
        Assert.Equal(CancelReason.None, ended.Reason);
    }

    [Fact]
    public void A_cancel_request_cancels_a_running_handler_once_and_keeps_an_earlier_reason()
    {
        RunningJob running = Start(1), timedOut = Start(2);
        timedOut.Cancel(CancelReason.Timeout);

        _book.Apply(new HeartbeatResult([], [running.Job.Token, timedOut.Job.Token], 2), _book.Renewals());

        Assert.Equal(CancelReason.CancelRequested, running.Reason);
        Assert.Equal(CancelReason.Timeout, timedOut.Reason);
    }

    [Fact]
    public void A_cancel_request_for_the_held_suspect_hands_it_back_to_end_cancelled()
    {
        var held = new LeasedAttempt(TestJobs.Suspect(7), IsTrial: false);
        _book.Hold(held, DateTimeOffset.MaxValue);

        var cancelled = _book.Apply(new HeartbeatResult([], [held.Job.Token], 1), _book.Renewals());

        Assert.Same(held, cancelled);
        Assert.Null(_book.Held);
    }

    [Fact]
    public void A_lost_lease_drops_the_held_suspect_with_nothing_to_write()
    {
        var held = new LeasedAttempt(TestJobs.Suspect(7), IsTrial: false);
        _book.Hold(held, DateTimeOffset.MaxValue);

        Assert.Null(_book.Apply(new HeartbeatResult([held.Job.Token], [], 0), _book.Renewals()));
        Assert.Null(_book.Held);
    }

    [Fact]
    public void A_suspect_started_between_the_beat_and_its_answer_is_not_dropped()
    {
        var held = new LeasedAttempt(TestJobs.Suspect(7), IsTrial: false);
        _book.Hold(held, DateTimeOffset.MaxValue);
        var renewal = _book.Renewals();
        Assert.True(_book.TryTakeHeld(held)); // the leasing loop started it alone meanwhile

        Assert.Null(_book.Apply(new HeartbeatResult([], [held.Job.Token], 1), renewal));
        Assert.False(_book.TryTakeHeld(held));
    }

    [Fact]
    public void An_abandoned_handler_keeps_its_token_source_until_it_returns()
    {
        var run = Start(1);
        Assert.True(_book.TryAbandon(run));
        Assert.False(run.TrySettle()); // the handler returning later may not record a second outcome
        _book.MoveToFinishing(run);

        _book.Finished(run);
        Assert.True(_book.NothingInFlight);
        Assert.Equal(1, _book.AbandonedCount);
        _ = run.Token; // not disposed: the abandoned handler still holds it

        _book.AbandonedEnded(run);
        Assert.Equal(0, _book.AbandonedCount);
        Assert.Throws<ObjectDisposedException>(() => run.Token.WaitHandle);
    }

    [Fact]
    public void A_handler_that_settled_first_cannot_be_abandoned()
    {
        var run = Start(1);
        Assert.True(run.TrySettle());

        Assert.False(_book.TryAbandon(run));
        Assert.Equal(0, _book.AbandonedCount);
    }

    [Fact]
    public void The_suspect_running_alone_is_forgotten_once_it_ended()
    {
        var run = Start(1, suspect: true);
        _book.RunsAlone(run.Job.Token);
        Assert.True(_book.SuspectRunsAlone());

        _book.MoveToFinishing(run);
        Assert.False(_book.SuspectRunsAlone());
    }

    private RunningJob Start(long id, bool suspect = false)
    {
        var run = TestJobs.Running(_time, suspect ? TestJobs.Suspect(id) : TestJobs.Leased(id));
        _book.Start(run);
        return run;
    }
}
