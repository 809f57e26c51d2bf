using System.Globalization;
using Bulwark.Jobs;
using Microsoft.Extensions.Configuration;

namespace Bulwark.Hosting;

/// <summary>
/// Reads <c>Bulwark:Queues:&lt;queue&gt;:MaxAttempts|Backoff|Timeout|Retention</c>: each queue's configured defaults. Every
/// bad queue name, unknown key and malformed value becomes a message naming the key, so a typo fails the start.
/// </summary>
internal static class QueuePolicySection
{
    public const string Path = BulwarkConfigurationExtensions.Section + ":Queues";

    private const string Known = "Backoff, MaxAttempts, Retention, Timeout";

    public static Dictionary<string, QueuePolicy> Read(IConfiguration configuration, List<string> errors)
    {
        var policies = new Dictionary<string, QueuePolicy>(StringComparer.Ordinal);
        foreach (var queue in configuration.GetSection(Path).GetChildren())
        {
            try
            {
                JobValidator.ValidateQueue(queue.Key);
            }
            catch (JobValidationException ex)
            {
                errors.Add($"{queue.Path}: {ex.Reason}");
                continue;
            }

            var policy = QueuePolicy.None;
            foreach (var child in queue.GetChildren())
            {
                switch (child.Key.ToUpperInvariant())
                {
                    case "MAXATTEMPTS":
                        if (int.TryParse(child.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var attempts))
                        {
                            policy = policy with { MaxAttempts = attempts };
                        }
                        else
                        {
                            errors.Add($"{child.Path} is '{child.Value}'; give a whole number of attempts (1 means no retries).");
                        }

                        break;
                    case "BACKOFF":
                        try
                        {
                            policy = policy with { Backoff = BackoffPolicy.Parse(child.Value ?? "") };
                        }
                        catch (JobValidationException ex)
                        {
                            errors.Add($"{child.Path} is '{child.Value}': {ex.Reason}");
                        }

                        break;
                    case "TIMEOUT":
                    case "RETENTION":
                        if (OptionsSectionReader.ReadDuration(child, out var duration) is { } error)
                        {
                            errors.Add(error);
                        }
                        else if (duration is not null)
                        {
                            policy = child.Key.Equals("Timeout", StringComparison.OrdinalIgnoreCase) ? policy with { Timeout = duration } : policy with { Retention = duration };
                        }

                        break;
                    default:
                        errors.Add($"{child.Path} is not a known option; check the spelling (known: {Known}).");
                        break;
                }
            }

            try
            {
                policies[queue.Key] = policy.Validate();
            }
            catch (JobValidationException ex)
            {
                errors.Add($"{queue.Path}: {ex.Reason}");
            }
        }

        return policies;
    }
}
