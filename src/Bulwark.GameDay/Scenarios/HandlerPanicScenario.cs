using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>11 handler-panic: the handler throws <c>NullReferenceException</c>.</summary>
internal sealed class HandlerPanicScenario : IScenario
{
    public string Name => "handler-panic";

    public string Injected => "demo.fail jobs, one every 250 ms, whose first attempt throws NullReferenceException (max_attempts 3, fixed(300ms) backoff), among steady load";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 4);
        await d.WaitForWorkerAsync(w1, cancellationToken);
        var pid = w1.ProcessId;
        var load = d.NewLoad();
        var loading = load.RunAsync(d.Quick ? 150 : 1500, 40, cancellationToken);

        var count = d.Quick ? 12 : 100;
        var panics = new List<long>();
        for (var i = 0; i < count; i++)
        {
            // Spread out so a retry's success lands between two panics: five failures of one type in a row would open
            // its circuit breaker (the worker's own defence, a different scenario) and stall the retries for 30 s.
            await Task.Delay(TimeSpan.FromMilliseconds(250), d.Time, cancellationToken);
            var (answer, id) = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.fail", payload = new { times = 1, category = "system" }, max_attempts = 3, backoff = "fixed(300ms)" }, cancellationToken);
            panics.Add(id ?? throw new InvalidOperationException($"enqueue of demo.fail refused: {answer.Status} {answer.Body}"));
        }

        d.Inject($"{count} demo.fail jobs that throw NullReferenceException on attempt 1 (ids {Promises.Ids(panics)})");
        var seen = false;
        await d.WaitUntilAsync(async ct => seen = (await d.Api.GetJobAsync(panics[0], ct)).Errors.Count > 0, TimeSpan.FromSeconds(30), cancellationToken);
        d.Mark("first detection", seen ? $"job {panics[0]} attempt 1 recorded as system error" : "no error recorded within 30 s");
        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var details = new List<JobDetail>();
        foreach (var id in panics)
        {
            details.Add(await d.Api.GetJobAsync(id, cancellationToken));
        }

        d.Mark("automatic response", $"{details.Count(x => x.Job.State == "completed" && x.Job.Attempt == 2)} of {count} completed on their retry (attempt 2)");
        var m = await d.MeasureAsync(load, cancellationToken, panics);
        var first = details[0].Errors.FirstOrDefault();
        var wrong = details.Where(x => x.Errors.Count != 1 || x.Errors[0].Category != "system" || string.IsNullOrWhiteSpace(x.Errors[0].StackTrace)
            || x.Errors[0].ExceptionType?.Contains("NullReferenceException", StringComparison.Ordinal) != true).Select(x => x.Job.Id).ToArray();
        var notRetried = details.Where(x => x.Job.State != "completed" || x.Job.Attempt != 2).Select(x => x.Job.Id).ToArray();
        return new ScenarioResult(m.Impact,
        [
            Check.That("category System, stack trace kept", wrong.Length == 0,
                wrong.Length == 0 ? $"every panic recorded one error: category {first?.Category}, type {first?.ExceptionType}, stack trace of {first?.StackTrace?.Split('\n').Length} line(s)" : $"wrong error record: ids {Promises.Ids(wrong)}"),
            Check.That("retried per policy", notRetried.Length == 0,
                notRetried.Length == 0 ? $"all {count} completed on attempt 2 after the 300 ms backoff" : $"not completed on attempt 2: ids {Promises.Ids(notRetried)}"),
            Check.That("the worker process stays up and takes the next job", !w1.HasExited && w1.ProcessId == pid && settled && m.Tally.LostIds.Count == 0,
                $"w1 pid {pid} {(w1.HasExited ? "EXITED" : "still up")}; {load.Acks.Count} demo.append jobs around the panics all completed: {m.Tally.LostIds.Count == 0}"),
            Promises.NoneLost(m),
            Promises.NoDuplicates(m),
        ]);
    }
}
