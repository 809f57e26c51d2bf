using System.Globalization;
using System.Text.Json;
using Bulwark.Jobs;

namespace Bulwark.Server.Api;

/// <summary>How job fields in a JSON body are read; each reader words its own refusal.</summary>
internal static class JsonJobValues
{
    /// <summary>The property, or false when it is absent or JSON null (both mean "not given").</summary>
    public static bool TryGet(JsonElement node, string name, out JsonElement value) =>
        node.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A number of seconds, or text such as "250ms", "5s" or "1h30m".</summary>
    public static bool TryDuration(JsonElement value, out TimeSpan duration)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && seconds >= 0 && seconds < TimeSpan.MaxValue.TotalSeconds)
        {
            duration = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (value.ValueKind == JsonValueKind.String && DurationText.TryParse(value.GetString(), out duration))
        {
            return true;
        }

        duration = default;
        return false;
    }

    /// <summary>An ISO 8601 time; one without an offset is UTC.</summary>
    public static bool TryMoment(JsonElement value, out DateTimeOffset moment)
    {
        moment = default;
        return value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out moment);
    }

    public static string Shorten(string s) => s.Length <= 60 ? s : string.Concat(s.AsSpan(0, 57), "...");
}
