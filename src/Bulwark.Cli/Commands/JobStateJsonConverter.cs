using System.Text.Json;
using System.Text.Json.Serialization;
using Bulwark.Jobs;

namespace Bulwark.Cli.Commands;

/// <summary>Writes a <see cref="JobState"/> as its wire name (<c>dead_letter</c>), also as a dictionary key.</summary>
internal sealed class JobStateJsonConverter : JsonConverter<JobState>
{
    public override JobState Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JobStates.Parse(reader.GetString() ?? "");

    public override void Write(Utf8JsonWriter writer, JobState value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToName());

    public override JobState ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JobStates.Parse(reader.GetString() ?? "");

    public override void WriteAsPropertyName(Utf8JsonWriter writer, JobState value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value.ToName());
}
