using System.Globalization;

namespace Bulwark.Jobs;

/// <summary>
/// How long a job waits before its next attempt. Three shapes: <c>exponential(base, max, jitter)</c>
/// (the default: 1 s, 2 s, 4 s … capped at 1 h, ±20 % jitter), <c>fixed(d)</c>, or an explicit list
/// such as <c>1s,5s,30s</c> (the last step repeats). <see cref="ToString"/> and <see cref="Parse"/> round-trip.
/// </summary>
public abstract record BackoffPolicy
{
    /// <summary>The default policy: exponential from 1 s, capped at 1 h, with 20 % jitter.</summary>
    public static BackoffPolicy Default { get; } = new ExponentialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), 0.2);

    /// <summary>Exponential backoff: <paramref name="baseDelay"/> × 2^(attempt−1), capped at <paramref name="maxDelay"/>, ± <paramref name="jitter"/> (0–1).</summary>
    public static BackoffPolicy Exponential(TimeSpan baseDelay, TimeSpan maxDelay, double jitter = 0.2) => new ExponentialBackoff(baseDelay, maxDelay, jitter).Validated();

    /// <summary>The same delay before every retry.</summary>
    public static BackoffPolicy Fixed(TimeSpan delay) => new FixedBackoff(delay).Validated();

    /// <summary>An explicit list of delays; attempts past its end use the last one.</summary>
    public static BackoffPolicy Steps(params TimeSpan[] delays) => new StepBackoff([.. delays]).Validated();

    /// <summary>The delay before the retry that follows failed attempt number <paramref name="attempt"/> (1-based).</summary>
    /// <param name="attempt">The attempt that just failed, starting at 1.</param>
    /// <param name="random">A number in [0, 1) for jitter; pass 0.5 for none.</param>
    public abstract TimeSpan DelayFor(int attempt, double random);

    /// <summary>Checks the policy's numbers and throws a <see cref="JobValidationException"/> saying what to change.</summary>
    public abstract BackoffPolicy Validated();

    /// <summary>Parses <c>exponential(1s, 1h, 0.2)</c>, <c>exponential(1s)</c>, <c>fixed(5s)</c> or <c>1s,5s,30s</c>.</summary>
    public static BackoffPolicy Parse(string text)
    {
        const string Field = "backoff";
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new JobValidationException(Field, "The backoff is empty; use exponential(1s,1h,0.2), fixed(5s) or a list like 1s,5s,30s.");
        }

        var s = text.Trim();
        if (TryCall(s, "exponential", out var args) || TryCall(s, "exp", out args))
        {
            if (args.Length is < 1 or > 3)
            {
                throw new JobValidationException(Field, $"'{text}': exponential takes (base[, max[, jitter]]), for example exponential(1s,1h,0.2).");
            }

            var baseDelay = DurationText.Parse(args[0], Field);
            var max = args.Length > 1 ? DurationText.Parse(args[1], Field) : TimeSpan.FromHours(1);
            var jitter = 0.2;
            if (args.Length > 2 && !double.TryParse(args[2], NumberStyles.Float, CultureInfo.InvariantCulture, out jitter))
            {
                throw new JobValidationException(Field, $"'{args[2]}' is not a jitter; give a fraction between 0 and 1 such as 0.2.");
            }

            return Exponential(baseDelay, max, jitter);
        }

        if (TryCall(s, "fixed", out args))
        {
            if (args.Length != 1)
            {
                throw new JobValidationException(Field, $"'{text}': fixed takes one delay, for example fixed(5s).");
            }

            return Fixed(DurationText.Parse(args[0], Field));
        }

        if (s.Contains('(', StringComparison.Ordinal))
        {
            throw new JobValidationException(Field, $"'{text}' is not a backoff; use exponential(1s,1h,0.2), fixed(5s) or a list like 1s,5s,30s.");
        }

        return Steps(s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part => DurationText.Parse(part, Field)).ToArray());
    }

    private static bool TryCall(string s, string name, out string[] args)
    {
        args = [];
        if (!s.StartsWith(name + "(", StringComparison.OrdinalIgnoreCase) || !s.EndsWith(')'))
        {
            return false;
        }

        args = s[(name.Length + 1)..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return true;
    }
}
