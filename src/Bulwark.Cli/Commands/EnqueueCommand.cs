using System.CommandLine;
using Bulwark.Jobs;

namespace Bulwark.Cli.Commands;

/// <summary><c>bulwark enqueue QUEUE TYPE [--payload JSON] [--count N] ...</c>: prints one job id per line.</summary>
internal static class EnqueueCommand
{
    /// <summary>Most copies one <c>--count</c> may ask for (they are one atomic batch).</summary>
    public const int MaxCount = 10_000;

    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var queue = CliValues.QueueArgument("The queue to put the job in, such as 'default'.");
        var type = new Argument<string>("type") { Description = "The handler name, such as 'demo.noop' or 'email.send'.", HelpName = "TYPE" };
        var payload = new Option<string>("--payload") { Description = "The payload as JSON (default {}).", HelpName = "JSON", DefaultValueFactory = _ => "{}" };
        var payloadFile = new Option<string?>("--payload-file") { Description = "Read the payload JSON from this file ('-' for stdin), for payloads too big for a command line.", HelpName = "PATH" };
        var count = CliValues.Int("--count", $"Enqueue this many copies as one atomic batch (1–{MaxCount}, default 1).", 1, 1, MaxCount);
        var priority = new Option<int>("--priority") { Description = "Higher runs first (default 0).", HelpName = "P" };
        var delay = CliValues.Duration("--delay", "Start no sooner than this long from now, such as 30s or 5m.");
        var runAt = CliValues.Timestamp("--run-at", "Start no sooner than this moment (ISO 8601; UTC unless an offset is given).");
        var key = new Option<string?>("--key") { Description = "Idempotency key: while a job with this key is not finished, its id is returned and nothing new is stored.", HelpName = "KEY" };
        var maxAttempts = new Option<int?>("--max-attempts") { Description = $"Attempts in all (default: the queue's policy, else {JobDefaults.MaxAttempts}; 1 means no retry).", HelpName = "N" };
        var timeout = CliValues.Duration("--timeout", $"Execution timeout of one attempt (default: the queue's policy, else {DurationText.Format(JobDefaults.Timeout)}).");
        var backoff = CliValues.Backoff();
        var dependsOn = CliValues.Ids("--depends-on", "Jobs that must complete first.");
        var lifetime = CliValues.Duration("--lifetime", "Dead-letter the job if it has not completed this long from now.");

        var command = new Command("enqueue", "Enqueue a job (or --count copies) and print each id on its own line.")
        {
            queue, type, payload, payloadFile, count, priority, delay, runAt, key, maxAttempts, timeout, backoff, dependsOn, lifetime,
        };
        connection.AddTo(command);
        command.Validators.Add(r =>
        {
            if (r.GetResult(delay) is not null && r.GetResult(runAt) is not null)
            {
                r.AddError("Give either --delay or --run-at, not both.");
            }

            if (r.GetResult(payload) is { Implicit: false } && r.GetResult(payloadFile) is not null)
            {
                r.AddError("Give either --payload or --payload-file, not both.");
            }
        });

        command.SetAction(CliAction.Run(async (r, ct) =>
        {
            var now = TimeProvider.System.GetUtcNow();
            var job = new NewJob
            {
                Queue = r.GetValue(queue)!,
                Type = r.GetValue(type)!,
                Payload = r.GetValue(payloadFile) is { } file ? await ReadPayloadAsync(file, ct) : r.GetValue(payload)!,
                Priority = r.GetValue(priority),
                RunAt = r.GetValue(runAt) ?? (r.GetValue(delay) is { } d && d > TimeSpan.Zero ? now + d : null),
                Key = r.GetValue(key),
                DependsOn = r.GetValue(dependsOn) ?? [],
                ExpiresAt = r.GetValue(lifetime) is { } life ? now + life : null,
            };
            // Only what was typed becomes the job's own setting; the rest is left to the queue's policy.
            if (r.GetValue(maxAttempts) is { } attempts) { job = job with { MaxAttempts = attempts }; }
            if (r.GetValue(timeout) is { } limit) { job = job with { Timeout = limit }; }
            if (r.GetValue(backoff) is { } delays) { job = job with { Backoff = delays }; }

            // Validate before the store is opened (or created): refused input leaves no trace.
            var jobs = JobValidator.ValidateBatch(Enumerable.Repeat(job, r.GetValue(count)).ToArray());

            await using var backend = await connection.Resolve(r).OpenAsync(createStore: true, ct);
            var results = await backend.EnqueueAsync(jobs, ct);
            if (connection.WantsJson(r))
            {
                // POST /jobs answers one job as {id, deduplicated} and a batch as {jobs: [...]}.
                var views = results.Select(j => new { id = j.Id, deduplicated = j.Deduplicated }).ToArray();
                CliJson.Print<object>(views.Length == 1 ? views[0] : new { jobs = views });
                return ExitCodes.Success;
            }

            foreach (var result in results)
            {
                Console.Out.WriteLine(TextFormat.Number(result.Id));
            }

            var deduplicated = results.Where(x => x.Deduplicated).Select(x => x.Id).Distinct().ToArray();
            if (deduplicated.Length > 0)
            {
                Console.Error.WriteLine($"bulwark: key '{job.Key}' already belongs to unfinished job {string.Join(", ", deduplicated)}; nothing new was stored for it.");
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static async Task<string> ReadPayloadAsync(string path, CancellationToken cancellationToken)
    {
        if (path == "-")
        {
            return await Console.In.ReadToEndAsync(cancellationToken);
        }

        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"--payload-file: cannot read {path}: {ex.Message}");
        }
    }
}
