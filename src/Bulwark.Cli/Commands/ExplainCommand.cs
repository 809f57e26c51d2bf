using System.CommandLine;
using System.Text.Json;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark explain ID</c>: why a job is not running now (paused queue, dependency, limits, breaker, no worker,
/// reclaimed and isolated…), the same answer as <c>GET /api/v1/jobs/{id}/explain</c>.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var id = CliValues.JobIdArgument();
        var command = connection.AddTo(new Command("explain", "Say why a job is not running now, and what to do about it.") { id });
        command.SetAction(CliAction.WithBackend(connection, async (r, backend, ct) =>
        {
            var jobId = r.GetValue(id);
            if (await backend.ExplainAsync(jobId, ct) is not { } explanation)
            {
                Console.Error.WriteLine($"bulwark: there is no job {jobId}.");
                return ExitCodes.Failure;
            }

            if (connection.WantsJson(r))
            {
                // The API's own shape (snake_case), whichever back-end answered.
                Console.Out.WriteLine(JsonSerializer.Serialize(explanation, Indented));
                return ExitCodes.Success;
            }

            var runnable = explanation.GetProperty("runnable").GetBoolean();
            Console.Out.WriteLine($"Job {jobId} is {explanation.GetProperty("state").GetString()}{(runnable ? "; it starts as soon as a worker has a free slot" : "")}.");
            foreach (var reason in explanation.GetProperty("reasons").EnumerateArray())
            {
                Console.Out.WriteLine($"  {reason.GetProperty("code").GetString()}: {reason.GetProperty("detail").GetString()}");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
