using Bulwark.Diagnostics;
using Bulwark.Workers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class SupervisorTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestJobs.Clock();
    private readonly LeaseBook _book = new(new BulwarkMetrics(), NullLogger.Instance);
    private readonly Supervisor _supervisor;

    public SupervisorTests() =>
        _supervisor = new Supervisor(_book, new WorkerOptions { Name = "w", AbandonGracePeriod = TimeSpan.FromSeconds(5) }, _time, NullLogger.Instance);

    [Fact]
    public void A_job_past_its_execution_timeout_is_cancelled_as_a_timeout()
    {
        var run = TestJobs.Running(_time, TestJobs.Leased(1, timeout: TimeSpan.FromSeconds(30)));
        _book.Start(run);

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty(_supervisor.SuperviseOnce());
        Assert.Equal(CancelReason.None, run.Reason);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(_supervisor.SuperviseOnce());
        Assert.Equal(CancelReason.Timeout, run.Reason);
        Assert.True(run.Token.IsCancellationRequested);
    }

    [Fact]
    public void A_handler_that_ignores_its_cancelled_token_is_abandoned_after_the_grace_period()
    {
        var run = TestJobs.Running(_time, TestJobs.Leased(1));
        _book.Start(run);
        run.Cancel(CancelReason.CancelRequested);

        Assert.Empty(_supervisor.SuperviseOnce()); // the grace period starts when the supervisor first sees the cancel
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Empty(_supervisor.SuperviseOnce());
        _time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Same(run, Assert.Single(_supervisor.SuperviseOnce()));
        Assert.True(run.IsSettled);
        Assert.Equal(1, _book.AbandonedCount);
        Assert.Empty(_supervisor.SuperviseOnce()); // settled: never abandoned twice
    }

    [Fact]
    public void A_timed_out_handler_that_ignores_its_token_is_abandoned_a_grace_period_after_the_timeout()
    {
        var run = TestJobs.Running(_time, TestJobs.Leased(1, timeout: TimeSpan.FromSeconds(10)));
        _book.Start(run);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(_supervisor.SuperviseOnce());
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Single(_supervisor.SuperviseOnce());
        Assert.Equal(CancelReason.Timeout, run.Reason);
    }

    [Fact]
    public void A_handler_that_returned_or_was_cancelled_by_the_drain_is_left_alone()
    {
        var returned = TestJobs.Running(_time, TestJobs.Leased(1), Task.CompletedTask);
        var draining = TestJobs.Running(_time, TestJobs.Leased(2));
        _book.Start(returned);
        _book.Start(draining);
        returned.Cancel(CancelReason.CancelRequested);
        draining.Cancel(CancelReason.Shutdown);

        _supervisor.SuperviseOnce();
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Empty(_supervisor.SuperviseOnce());
        Assert.Equal(0, _book.AbandonedCount);
    }
}
