using System.Globalization;
using System.Text;

namespace Bulwark.Jobs;

/// <summary>Parses and prints human durations: <c>250ms</c>, <c>5s</c>, <c>30m</c>, <c>2h</c>, <c>7d</c>, <c>1h30m</c>, or a <see cref="TimeSpan"/> (<c>00:00:05</c>).</summary>
public static class DurationText
{
    /// <summary>Parses a duration or throws a <see cref="JobValidationException"/> naming <paramref name="field"/>.</summary>
    public static TimeSpan Parse(string text, string field = "duration") =>
        TryParse(text, out var value)
            ? value
            : throw new JobValidationException(field, $"'{text}' is not a duration; write it like 250ms, 5s, 30m, 2h, 7d or 1h30m.");

    /// <summary>Tries to parse a duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        if (s.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var total = TimeSpan.Zero;
        var i = 0;
        var any = false;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            var unit = s[unitStart..i].ToLowerInvariant();
            double ms = unit switch
            {
                "ms" => number,
                // A bare number is seconds, but only when it is the whole text ("30", not "1m30").
                "" => i == s.Length && !any ? number * 1000 : double.NaN,
                "s" or "sec" or "secs" => number * 1000,
                "m" or "min" or "mins" => number * 60_000,
                "h" or "hr" or "hrs" => number * 3_600_000,
                "d" or "day" or "days" => number * 86_400_000,
                _ => double.NaN,
            };
            if (double.IsNaN(ms))
            {
                return false;
            }

            if (ms > TimeSpan.MaxValue.TotalMilliseconds - total.TotalMilliseconds)
            {
                return false;
            }

            total += TimeSpan.FromMilliseconds(ms);
            any = true;
        }

        value = total;
        return any;
    }

    /// <summary>Prints a duration in the shortest form <see cref="Parse"/> reads back exactly.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        var rest = value;
        Append(ref rest, TimeSpan.FromDays(1), "d");
        Append(ref rest, TimeSpan.FromHours(1), "h");
        Append(ref rest, TimeSpan.FromMinutes(1), "m");
        Append(ref rest, TimeSpan.FromSeconds(1), "s");
        if (rest > TimeSpan.Zero)
        {
            sb.Append(rest.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)).Append("ms");
        }

        return sb.ToString();

        void Append(ref TimeSpan remaining, TimeSpan unit, string suffix)
        {
            var count = remaining.Ticks / unit.Ticks;
            if (count > 0)
            {
                sb.Append(count.ToString(CultureInfo.InvariantCulture)).Append(suffix);
                remaining -= TimeSpan.FromTicks(count * unit.Ticks);
            }
        }
    }
}
