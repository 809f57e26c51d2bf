using Bulwark.Diagnostics;
using Bulwark.Workers;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bulwark.Worker.Tests;

public sealed class LeasingGateTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestJobs.Clock();
    private readonly WorkerOptions _options = new() { Name = "w", Concurrency = 4, MaxAbandonedHandlers = 2, Queues = { "a", "b" } };
    private readonly LeaseBook _book = new(new BulwarkMetrics(), NullLogger.Instance);
    private readonly CircuitBreakers _circuits;
    private readonly LeasingGate _gate;
    private long _workingSet = 50L * 1024 * 1024;

    public LeasingGateTests()
    {
        _circuits = new CircuitBreakers(threshold: 1, TimeSpan.FromSeconds(30), _time, new BulwarkMetrics());
        var memory = new MemoryGuard(_options, () => _workingSet, () => { }, _time, NullLogger.Instance);
        _gate = new LeasingGate(_options, "w-1", _book, memory, _circuits, () => 0.5, NullLogger.Instance, time: _time);
    }

    [Fact]
    public void An_idle_worker_may_lease_every_slot()
    {
        Assert.Equal(LeaseDecision.Lease(4), Decide());
    }

    [Fact]
    public void Unwritten_outcomes_hold_back_leasing_beyond_one_more_slot_each()
    {
        for (var i = 1; i <= 3; i++)
        {
            var run = TestJobs.Running(_time, TestJobs.Leased(i));
            _book.Start(run);
            _book.MoveToFinishing(run);
        }

        Assert.Equal(4, _gate.FreeSlots); // three outcomes waiting fit within one more slot's worth
        for (var i = 4; i <= 8; i++)
        {
            var run = TestJobs.Running(_time, TestJobs.Leased(i));
            _book.Start(run);
            _book.MoveToFinishing(run);
        }

        Assert.Equal(0, _gate.FreeSlots);
        Assert.True(Decide().StartsNothing);
    }

    [Fact]
    public void Draining_leases_nothing()
    {
        _gate.BeginDrain();
        Assert.True(_gate.IsDraining);
        Assert.True(Decide().StartsNothing);
    }

    [Fact]
    public void Over_the_memory_limit_leases_nothing()
    {
        _options.MemoryLimitBytes = 100L * 1024 * 1024;
        _workingSet = 200L * 1024 * 1024;
        Assert.True(Decide().StartsNothing);
        _workingSet = 20L * 1024 * 1024;
        Assert.Equal(LeaseDecision.Lease(4), Decide());
    }

    [Fact]
    public void At_the_abandoned_bound_it_leases_nothing_and_reports_jammed()
    {
        for (var i = 1; i <= 2; i++)
        {
            var run = TestJobs.Running(_time, TestJobs.Leased(i));
            _book.Start(run);
            Assert.True(_book.TryAbandon(run));
            _book.MoveToFinishing(run);
            _book.Finished(run);
        }

        Assert.True(Decide().StartsNothing);
        Assert.True(_gate.IsJammed);
    }

    [Fact]
    public void A_suspect_leased_alone_on_an_idle_worker_starts_and_nothing_more_is_leased_until_it_ends()
    {
        var suspect = new LeasedAttempt(TestJobs.Suspect(1), IsTrial: false);

        var admitted = _gate.Admit([suspect]);
        Assert.Equal([suspect], admitted.Start);
        var run = TestJobs.Running(_time, suspect.Job);
        _book.Start(run);
        Assert.True(Decide().StartsNothing);

        _book.MoveToFinishing(run);
        _book.Finished(run);
        Assert.Equal(LeaseDecision.Lease(4), Decide());
    }

    [Fact]
    public void A_batch_with_suspects_starts_the_others_holds_the_first_suspect_and_gives_back_the_rest()
    {
        LeasedAttempt fresh = new(TestJobs.Leased(1), false), first = new(TestJobs.Suspect(2), false), second = new(TestJobs.Suspect(3), false);

        var admitted = _gate.Admit([fresh, first, second]);

        Assert.Equal([fresh], admitted.Start);
        Assert.Equal([second], admitted.GiveBack);
        Assert.Same(first, _book.Held);
    }

    [Fact]
    public void A_held_suspect_starts_alone_only_once_nothing_else_is_in_flight()
    {
        var suspect = new LeasedAttempt(TestJobs.Suspect(2), false);
        var other = TestJobs.Running(_time, TestJobs.Leased(1));
        _book.Start(other);
        Assert.Empty(_gate.Admit([suspect]).Start);
        Assert.True(Decide().StartsNothing);

        _book.MoveToFinishing(other);
        Assert.True(Decide().StartsNothing); // its outcome is not written yet
        _book.Finished(other);

        Assert.Equal(LeaseDecision.Start(suspect), Decide());
        Assert.Null(_book.Held);
        _book.Start(TestJobs.Running(_time, suspect.Job));
        Assert.True(Decide().StartsNothing); // it runs alone
    }

    [Fact]
    public void A_held_suspect_whose_lease_no_heartbeat_renewed_for_a_whole_lease_is_never_started()
    {
        var suspect = new LeasedAttempt(TestJobs.Suspect(2), false);
        var other = TestJobs.Running(_time, TestJobs.Leased(1));
        _book.Start(other);
        Assert.Empty(_gate.Admit([suspect]).Start);

        // A beat renews it: still good a lease from the beat.
        _time.Advance(_options.LeaseDuration * 0.8);
        var renewal = _book.Renewals(_time.GetUtcNow() + _options.LeaseDuration);
        _book.Apply(new Bulwark.Storage.HeartbeatResult([], [], renewal.Tokens.Count), renewal);
        _time.Advance(_options.LeaseDuration * 0.8);
        Assert.True(Decide().StartsNothing);
        Assert.Same(suspect, _book.Held);

        // Then no beat gets through (a starved heartbeat) for a whole lease: reclaim may have taken it; it must not start.
        _time.Advance(_options.LeaseDuration * 0.3);
        _book.MoveToFinishing(other);
        _book.Finished(other);
        Assert.True(Decide().StartsNothing);
        Assert.Null(_book.Held);
        Assert.Equal(LeaseDecision.Lease(4), Decide());
    }

    [Fact]
    public void An_open_circuit_is_left_out_and_a_half_open_one_gets_a_one_job_trial_request_first()
    {
        _circuits.RecordFailure("flaky");
        _circuits.RecordFailure("broken");
        var queues = _gate.OrderQueues();
        Assert.Equal(["a", "b"], queues);
        Assert.Null(_gate.TrialRequest(queues));
        Assert.Equal(["broken", "flaky"], _gate.Request(queues, 4).ExcludedTypes.Order());

        _time.Advance(TimeSpan.FromSeconds(30));
        _circuits.Open("broken"); // opened by hand: stays open
        var trial = Assert.IsType<Storage.LeaseRequest>(_gate.TrialRequest(queues));
        Assert.Equal(1, trial.Max);
        Assert.Equal(["broken"], trial.ExcludedTypes);
        Assert.True(_gate.AdmitTrial(TestJobs.Leased(1, "flaky")).IsTrial);
        Assert.False(_gate.AdmitTrial(TestJobs.Leased(2, "flaky")).IsTrial); // one trial only
        Assert.Null(_gate.TrialRequest(queues));
    }

    [Fact]
    public void Queue_weights_order_the_queues_by_weighted_draw()
    {
        _options.QueueWeights["b"] = 10;
        Assert.Equal(["b", "a"], _gate.OrderQueues());
    }

    private LeaseDecision Decide() => _gate.Decide(_workingSet);
}
