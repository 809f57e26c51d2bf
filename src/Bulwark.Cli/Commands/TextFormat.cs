using System.Globalization;
using Bulwark.Jobs;

namespace Bulwark.Cli.Commands;

/// <summary>How the text output prints times and short values.</summary>
internal static class TextFormat
{
    public static string Time(DateTimeOffset? value) =>
        value is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Shorten(string? text, int max) =>
        text is null ? "-" : text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    public static string LastError(JobSnapshot job) =>
        job.Errors.Count > 0 ? Shorten($"{job.Errors[^1].Category}: {job.Errors[^1].Message}", 80) : Shorten(job.Reason, 80);
}
