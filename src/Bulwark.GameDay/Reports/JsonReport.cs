using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bulwark.GameDay.Reports;

/// <summary>The report as JSON (snake_case, like the API), for CI and dashboards.</summary>
internal static class JsonReport
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write(GameDayReport report) => JsonSerializer.Serialize(report, Options);
}
