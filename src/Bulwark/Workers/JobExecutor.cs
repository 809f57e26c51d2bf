using System.Text.Json;
using Bulwark.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bulwark.Workers;

/// <summary>
/// The middle of the pipeline for one leased job: resolve its handler → read its payload → perform it in a fresh DI
/// scope → serialize the result. Failures surface as exceptions; the runtime normalises them into an outcome and records it.
/// </summary>
internal sealed class JobExecutor(string workerId, string workerName, HandlerRegistry handlers, IServiceScopeFactory scopes, IJobStore store, JsonSerializerOptions json, ILoggerFactory loggers)
{
    private readonly ILogger _jobLogger = loggers.CreateLogger("Bulwark.Job");

    public async Task<string?> PerformAsync(RunningJob run)
    {
        var job = run.Job;
        if (!handlers.TryGet(job.Type, out var handler))
        {
            throw new PermanentJobException($"No handler is registered for job type '{job.Type}' on worker '{workerName}'; register one with AddHandler(\"{job.Type}\", …) or stop sending it to queue '{job.Queue}'.");
        }

        var payload = handler.Deserialize(job.Payload, json);
        await using var scope = scopes.CreateAsyncScope();
        using var logScope = _jobLogger.BeginScope(new Dictionary<string, object> { ["JobId"] = job.Id, ["JobType"] = job.Type, ["Attempt"] = job.Attempt });
        var context = new JobContext(job, workerId, store, json, _jobLogger, run.Token, () => run.Cancel(CancelReason.LeaseLost));
        var result = await handler.InvokeAsync(scope.ServiceProvider, payload, context);
        return result is null ? null : JsonSerializer.Serialize(result, result.GetType(), json);
    }
}
