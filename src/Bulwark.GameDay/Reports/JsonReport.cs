using System.Text.Encodings.Web;
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
        // Readable in a terminal (×, →, quotes); the report is a file, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Write(GameDayReport report) => JsonSerializer.Serialize(report, Options);
}
