using System.CommandLine;
using Bulwark.Jobs;

namespace Bulwark.Cli.Worker;

/// <summary>
/// The hidden <c>--clock-offset</c> of <c>bulwark worker</c> (such as <c>--clock-offset=-2h</c>): a test seam that lets
/// black-box tests run a worker whose clock is skewed, to show the PostgreSQL store judges leases by the database clock.
/// </summary>
internal static class ClockOffsetOption
{
    public static Option<TimeSpan?> Create() => new("--clock-offset")
    {
        Description = "Test seam: shift this worker's wall clock by a duration, negative for behind (write --clock-offset=-2h).",
        HelpName = "[-]DURATION",
        Hidden = true,
        CustomParser = r =>
        {
            var text = r.Tokens[0].Value.Trim();
            var negative = text.StartsWith('-');
            if (DurationText.TryParse(negative ? text[1..] : text.TrimStart('+'), out var value))
            {
                return negative ? -value : value;
            }

            r.AddError($"--clock-offset '{text}' is not a duration; write it like 2h or -90s.");
            return null;
        },
    };
}
