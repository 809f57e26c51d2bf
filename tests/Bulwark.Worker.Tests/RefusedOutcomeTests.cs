using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.Worker.Tests;

/// <summary>An outcome the store refuses whatever happens must not hold every other outcome, and the worker, behind it.</summary>
public sealed class RefusedOutcomeTests
{
    [Fact]
    public async Task An_outcome_the_store_always_refuses_is_isolated_the_others_are_written_and_its_attempt_fails_saying_why()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("quick", (_, _) => Task.CompletedTask), o => o.Concurrency = 8);
        var ids = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await h.EnqueueAsync("quick", maxAttempts: 1));
        }

        var poisoned = ids[3];
        // As a PostgreSQL store refuses a value it cannot hold: every batch holding that job's completion fails.
        h.Faults.BeforeFinish = (outcomes, _) => outcomes.Any(o => o.Token.JobId == poisoned && o.Kind == OutcomeKind.Complete)
            ? Task.FromException(new InvalidOperationException("invalid byte sequence for encoding \"UTF8\": 0x00"))
            : Task.CompletedTask;

        Assert.Equal(8, await h.Runtime.RunOnceAsync());
        var failed = await h.WaitForStateAsync(poisoned, JobState.DeadLetter);

        foreach (var id in ids.Where(id => id != poisoned))
        {
            Assert.Equal(JobState.Completed, (await h.GetAsync(id)).State);
        }

        var error = Assert.Single(failed.Errors);
        Assert.Equal(FailureCategory.System, error.Category);
        Assert.Contains("refused this attempt's Complete outcome", error.Message, StringComparison.Ordinal);
        Assert.Contains("0x00", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Runtime.FinishingJobs);
    }

    [Fact]
    public async Task While_the_store_is_down_no_outcome_is_replaced_and_all_are_written_once_it_is_back()
    {
        await using var h = await WorkerHarness.StartAsync(b => b.AddHandler<Empty>("quick", (_, _) => Task.CompletedTask), o => o.Concurrency = 4);
        var ids = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await h.EnqueueAsync("quick"));
        }

        Assert.Equal(4, await h.Runtime.RunOnceAsync());
        await Bulwark.TestProcesses.Poll.UntilAsync(() => Task.FromResult(h.Runtime.Completer.PendingCount == 4), TimeSpan.FromSeconds(15), () => $"{h.Runtime.Completer.PendingCount} outcomes waiting");
        h.Faults.FailWrites();
        for (var pass = 0; pass < 12; pass++)
        {
            Assert.Equal(0, await h.Runtime.Completer.RunOnceAsync());
        }

        h.Faults.Heal();
        await h.SettleAsync();
        foreach (var id in ids)
        {
            var job = await h.GetAsync(id);
            Assert.Equal(JobState.Completed, job.State);
            Assert.Empty(job.Errors);
        }
    }
}
