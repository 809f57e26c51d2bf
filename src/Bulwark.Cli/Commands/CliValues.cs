using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Bulwark.Jobs;

namespace Bulwark.Cli.Commands;

/// <summary>
/// Arguments and options whose values are checked while parsing, so that a malformed value is a usage error (exit 2)
/// reported before any store is opened. Messages come from the library's own validators.
/// </summary>
internal static class CliValues
{
    public static Argument<string> QueueArgument(string description = "The queue name.") => Validated(
        new Argument<string>("queue") { Description = description, HelpName = "QUEUE" },
        JobValidator.ValidateQueue);

    public static Option<string?> QueueOption(string description = "Only this queue.", bool required = false) => Validated(
        new Option<string?>("--queue") { Description = description, HelpName = "QUEUE", Required = required },
        JobValidator.ValidateQueue);

    public static Argument<long> JobIdArgument() => new("id")
    {
        Description = "The job id.",
        HelpName = "ID",
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                return id;
            }

            r.AddError($"'{text}' is not a job id; job ids are positive numbers.");
            return 0;
        },
    };

    public static Option<int> Limit(int defaultValue, int max) =>
        Int("--limit", $"How many to show (1–{max}, default {defaultValue}).", defaultValue, 1, max);

    /// <summary>
    /// An integer option with no default: null when not given, so a host's configuration (appsettings.json,
    /// <c>Bulwark__…</c> environment variables) decides, and a flag given wins.
    /// </summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            r.AddError($"{name} must be a whole number from {min} to {max} (got '{text}').");
            return null;
        },
    };

    /// <summary>An integer option checked while parsing (a validator would run even after a failed conversion).</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }

            r.AddError($"{name} must be a whole number between {min} and {max} (got '{text}').");
            return defaultValue;
        },
    };

    public static Option<long?> Cursor() => new("--cursor")
    {
        Description = "Continue a listing: the cursor the previous page printed.",
        HelpName = "CURSOR",
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
            {
                return value;
            }

            r.AddError($"--cursor must be the positive number a previous page printed (got '{text}').");
            return null;
        },
    };

    public static Option<JobState?> State(string description, bool required = false) => new("--state")
    {
        Description = description + " One of: " + string.Join(", ", JobStates.All.Select(s => s.ToName())) + ".",
        HelpName = "STATE",
        Required = required,
        CustomParser = r => Catching(r, () => JobStates.Parse(r.Tokens[0].Value)),
    };

    public static Option<TimeSpan?> Duration(string name, string description, bool required = false) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        Required = required,
        CustomParser = r => Catching(r, () => DurationText.Parse(r.Tokens[0].Value, name.TrimStart('-'))),
    };

    public static Option<BackoffPolicy?> Backoff() => new("--backoff")
    {
        Description = "Delay between attempts: exponential(1s,1h,0.2) (the default), fixed(5s), or a list like 1s,5s,30s.",
        HelpName = "POLICY",
        CustomParser = r => Catching(r, () => BackoffPolicy.Parse(r.Tokens[0].Value)),
    };

    public static Option<DateTimeOffset?> Timestamp(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ISO-8601",
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            {
                return value;
            }

            r.AddError($"{name} '{text}' is not a date and time; write it like 2030-01-31T09:00:00Z.");
            return null;
        },
    };

    public static Option<long[]> Ids(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ID,ID,...",
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var ids = new List<long>();
            foreach (var part in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
            {
                if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
                {
                    r.AddError($"{name}: '{part}' is not a job id; give positive numbers separated by commas, such as 1,2.");
                    return [];
                }

                ids.Add(id);
            }

            return [.. ids];
        },
    };

    private static T? Catching<T>(ArgumentResult result, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (JobValidationException ex)
        {
            result.AddError(ex.Reason);
            return default;
        }
    }

    private static Argument<string> Validated(Argument<string> argument, Func<string, string> validate)
    {
        argument.Validators.Add(r => Check(r, () => validate(r.GetValueOrDefault<string>())));
        return argument;
    }

    private static Option<string?> Validated(Option<string?> option, Func<string, string> validate)
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value)
            {
                Check(r, () => validate(value));
            }
        });
        return option;
    }

    private static void Check(SymbolResult result, Action check)
    {
        try
        {
            check();
        }
        catch (JobValidationException ex)
        {
            result.AddError(ex.Reason);
        }
    }
}
