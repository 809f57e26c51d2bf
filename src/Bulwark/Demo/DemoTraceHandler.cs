using System.Globalization;
using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary>
/// <c>demo.trace {"dir","ms","fail"}</c>: an execution that leaves its history outside the store. It appends
/// <c>start JOB ATTEMPT EPOCH WORKER UNIX_MS</c> to <c>DIR/WORKER.trace</c> (one file per worker process, so a
/// <c>kill -9</c> tears at most that process's last line), waits <c>ms</c>, then appends <c>fail …</c> and throws
/// (Temporary) while the attempt is at most <c>fail</c>, else appends <c>finish …</c> and returns its lease identity
/// (<c>{"epoch","worker","attempt"}</c>) as the result, so a checker can tell which lease's outcome the store recorded.
/// </summary>
internal sealed class DemoTraceHandler(TimeProvider time) : IJobHandler<DemoTracePayload>
{
    public async Task<object?> HandleAsync(DemoTracePayload payload, JobContext context)
    {
        if (string.IsNullOrWhiteSpace(payload.Dir))
        {
            throw new PermanentJobException("demo.trace needs a \"dir\" to write its trace into.");
        }

        DemoGuard.NotNegative(payload.Ms, "ms");
        DemoGuard.NotNegative(payload.Fail, "fail");
        var path = Path.Combine(payload.Dir, context.WorkerId + ".trace");
        var epoch = context.Job.Token.Epoch;
        string Line(string what) => string.Create(CultureInfo.InvariantCulture,
            $"{what} {context.JobId} {context.Attempt} {epoch} {context.WorkerId} {time.GetUtcNow().ToUnixTimeMilliseconds()}");

        await DemoFile.AppendLineAsync(path, Line("start"), context.CancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(payload.Ms), time, context.CancellationToken);
        if (context.Attempt <= payload.Fail)
        {
            await DemoFile.AppendLineAsync(path, Line("fail"), context.CancellationToken);
            throw new InvalidOperationException($"demo.trace: attempt {context.Attempt} at lease {epoch} fails (the first {payload.Fail} do)");
        }

        await DemoFile.AppendLineAsync(path, Line("finish"), context.CancellationToken);
        return new { epoch, worker = context.WorkerId, attempt = context.Attempt };
    }
}
