using Bulwark.Client;
using Bulwark.Hosting;
using Bulwark.Jobs;
using Bulwark.Storage;
using Bulwark.Testing;
using Bulwark.Workers;
using Microsoft.Extensions.DependencyInjection;

namespace Bulwark.Tests.Testing;

/// <summary>One handler run against a payload with a real JobContext, and assertions on what code enqueued.</summary>
public sealed class JobHarnessTests
{
    [Fact]
    public async Task A_completed_run_stores_the_result_and_the_progress_the_handler_reported()
    {
        await using var harness = new JobHarness();

        var run = await harness.RunAsync(new ResizeHandler(), new Resize(3));

        Assert.True(run.Succeeded);
        Assert.Equal(JobState.Completed, run.State);
        Assert.Equal(100, run.Progress);
        Assert.Equal(new ResizeResult(3), run.GetResult<ResizeResult>());
        Assert.Equal("image.resize", run.Job.Type);
        Assert.Equal("images", run.Job.Queue);
    }

    [Fact]
    public async Task A_retry_finds_the_checkpoint_an_earlier_attempt_saved_and_continues_from_it()
    {
        await using var harness = new JobHarness();

        var run = await harness.RunAsync(new ResizeHandler(), new Resize(5), o => o.Checkpoint(new ResizeCheckpoint(4)).Progress(80));

        Assert.True(run.Succeeded);
        // Only image 5 was left; the handler records which images it did in this attempt.
        Assert.Equal(new ResizeResult(1), run.GetResult<ResizeResult>());
        Assert.Equal(new ResizeCheckpoint(5), run.GetCheckpoint<ResizeCheckpoint>());
    }

    [Fact]
    public async Task A_handler_exception_is_recorded_as_a_retry_with_the_workers_category()
    {
        await using var harness = new JobHarness();

        var run = await harness.RunAsync(new ResizeHandler(), new Resize(-1));

        Assert.False(run.Succeeded);
        Assert.Equal(OutcomeKind.Retry, run.Outcome);
        Assert.Equal(JobState.Scheduled, run.State);
        Assert.Equal(FailureCategory.System, run.Category); // ArgumentOutOfRangeException is bug-like
        Assert.IsType<ArgumentOutOfRangeException>(run.Exception);
    }

    [Fact]
    public async Task A_permanent_failure_fails_the_job_and_the_last_attempt_dead_letters_it()
    {
        await using var harness = new JobHarness();

        var permanent = await harness.RunAsync(new ResizeHandler(), new Resize(0));
        var last = await harness.RunAsync(new ResizeHandler(), new Resize(-1), o => o.Enqueue(e => e.MaxAttempts(1)));

        Assert.Equal(JobState.Failed, permanent.State);
        Assert.Equal(FailureCategory.Permanent, permanent.Category);
        Assert.Equal(JobState.DeadLetter, last.State);
    }

    [Fact]
    public async Task Cancelling_the_token_while_the_handler_runs_cancels_the_job()
    {
        await using var harness = new JobHarness();
        using var cancel = new CancellationTokenSource();
        var handler = new WaitingHandler();

        var running = harness.RunAsync(handler, new Resize(1), cancellationToken: cancel.Token);
        await handler.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cancel.CancelAsync();
        var run = await running;

        Assert.Equal(OutcomeKind.Cancelled, run.Outcome);
        Assert.Equal(JobState.Cancelled, run.State);
        Assert.Equal(FailureCategory.Cancelled, run.Category);
    }

    [Fact]
    public async Task A_payload_that_does_not_round_trip_through_json_fails_permanently_as_on_a_worker()
    {
        await using var harness = new JobHarness();

        var run = await harness.RunAsync(new PathHandler(), new PathPayload(42));

        Assert.Equal(JobState.Failed, run.State);
        Assert.Equal(FailureCategory.Permanent, run.Category);
        Assert.Contains("cannot be read as PathPayload", run.Exception!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_under_test_enqueues_through_the_client_and_the_test_reads_back_typed_payloads()
    {
        await using var harness = new JobHarness(b => b.AddHandler<ResizeHandler>());
        var uploads = new Uploads(harness.Client);

        await uploads.AcceptAsync(["a.png", "b.png"]);

        var jobs = await harness.EnqueuedAsync<Resize>();
        Assert.Equal([2, 2], jobs.Select(j => j.Payload.Images));
        Assert.All(jobs, j => Assert.Equal("images", j.Job.Queue));
        Assert.Equal(["upload-a.png", "upload-b.png"], jobs.Select(j => j.Job.Key));
    }

    [Fact]
    public async Task Only_the_run_job_executes_when_the_code_under_test_queued_others_first()
    {
        await using var harness = new JobHarness(b => b.AddHandler<ResizeHandler>());
        var queued = await harness.Client.EnqueueAsync(new Resize(9), o => o.Priority(10));

        var run = await harness.RunAsync(new ResizeHandler(), new Resize(1));

        Assert.True(run.Succeeded);
        var other = await harness.Client.GetAsync(queued);
        Assert.Equal(JobState.Ready, other!.State);
        Assert.Equal(0, other.Attempt);
    }

    [JobType("image.resize", Queue = "images")]
    private sealed class ResizeHandler : IJobHandler<Resize>
    {
        public async Task<object?> HandleAsync(Resize payload, JobContext context)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(payload.Images);
            if (payload.Images == 0)
            {
                throw new PermanentJobException("Nothing to resize.");
            }

            var done = context.GetCheckpoint<ResizeCheckpoint>()?.Done ?? 0;
            var now = 0;
            while (done < payload.Images)
            {
                done++;
                now++;
                Assert.True(await context.ReportProgressAsync(done * 100 / payload.Images, new ResizeCheckpoint(done)));
            }

            return new ResizeResult(now);
        }
    }

    private sealed class WaitingHandler : IJobHandler<Resize>
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<object?> HandleAsync(Resize payload, JobContext context)
        {
            Started.SetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return null;
        }
    }

    private sealed class PathHandler : IJobHandler<PathPayload>
    {
        public Task<object?> HandleAsync(PathPayload payload, JobContext context) => Task.FromResult<object?>(null);
    }

    /// <summary>Code under test: enqueues one resize per upload.</summary>
    private sealed class Uploads(IJobClient jobs)
    {
        public async Task AcceptAsync(IEnumerable<string> files)
        {
            foreach (var file in files)
            {
                await jobs.EnqueueAsync(new Resize(2), o => o.Key($"upload-{file}"));
            }
        }
    }

    private sealed record Resize(int Images);

    private sealed record ResizeCheckpoint(int Done);

    private sealed record ResizeResult(int Resized);

    // An interface-typed member serializes (as its runtime type) but cannot be read back.
    private sealed record PathPayload(IComparable Value);
}
