using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Bulwark.Jobs;
using Bulwark.Server.Api;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark queues policy QUEUE [--max-attempts N] [--backoff B] [--timeout D] [--retention D] [--clear]</c>: the queue's
/// defaults for jobs that do not set their own, kept fleet-wide by the store. With no option it shows the policy.
/// </summary>
internal static class QueuePolicyCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueArgument();
        var maxAttempts = new Option<string?>("--max-attempts") { Description = "Attempts in all for jobs that do not set max_attempts (1 means no retries); none clears it.", HelpName = "N" };
        var backoff = new Option<string?>("--backoff") { Description = "Backoff between attempts: exponential(1s,1h,0.2), fixed(5s) or 1s,5s,30s; none clears it.", HelpName = "B" };
        var timeout = new Option<string?>("--timeout") { Description = "Execution timeout of one attempt, such as 30s or 5m; none clears it.", HelpName = "D" };
        var retention = new Option<string?>("--retention") { Description = "Keep the queue's finished jobs this long, such as 24h or 7d; none clears it.", HelpName = "D" };
        var clear = new Option<bool>("--clear") { Description = "Remove the whole policy: jobs fall back to the configured and built-in defaults." };
        var command = connection.AddTo(new Command("policy", "Show a queue's policy, or set its defaults for jobs that do not set their own (a field not given is kept).")
        {
            queue, maxAttempts, backoff, timeout, retention, clear,
        });
        command.SetAction(CliAction.Run(async (r, ct) =>
        {
            var name = JobValidator.ValidateQueue(r.GetValue(queue));
            var body = new JsonObject();
            if (r.GetValue(maxAttempts) is { } attempts)
            {
                body["max_attempts"] = attempts.Equals("none", StringComparison.OrdinalIgnoreCase) ? null
                    : int.TryParse(attempts, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
                    : throw new JobValidationException("max_attempts", $"--max-attempts must be a whole number of attempts, such as 2, or none (got '{attempts}').");
            }

            foreach (var (option, field) in new[] { (backoff, "backoff"), (timeout, "timeout"), (retention, "retention") })
            {
                if (r.GetValue(option) is { } text)
                {
                    body[field] = text.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : text;
                }
            }

            if (r.GetValue(clear))
            {
                if (body.Count > 0)
                {
                    throw new JobValidationException("policy", "Give --clear alone, or the fields to change; not both.");
                }

                foreach (var field in QueuePolicyActions.Fields)
                {
                    body[field] = null;
                }
            }

            if (body.Count > 0)
            {
                // The same reader and rules as the server's, before anything is opened: a bad value names its field (exit 2).
                QueuePolicyActions.ReadChange(System.Text.Json.JsonSerializer.SerializeToElement(body))(QueuePolicy.None).Validate();
            }

            var backend = await connection.Resolve(r).OpenAsync(createStore: body.Count > 0, ct);
            await using (backend)
            {
                var policy = body.Count > 0 ? await backend.ChangeQueuePolicyAsync(name, body, ct) : await backend.GetQueuePolicyAsync(name, ct);
                if (connection.WantsJson(r))
                {
                    CliJson.Print(QueuePolicyActions.View(name, policy));
                }
                else
                {
                    Console.Out.WriteLine($"Queue '{name}' policy: {QueuePolicyActions.Describe(policy)}.{(policy.IsNone ? " Jobs that set nothing take the configured (Bulwark:Queues) or built-in defaults." : "")}");
                }

                return ExitCodes.Success;
            }
        }));
        return command;
    }
}
