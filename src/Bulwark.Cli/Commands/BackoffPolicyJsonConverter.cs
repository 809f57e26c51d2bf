using System.Text.Json;
using System.Text.Json.Serialization;
using Bulwark.Jobs;

namespace Bulwark.Cli.Commands;

/// <summary>Writes a <see cref="BackoffPolicy"/> in the text form <see cref="BackoffPolicy.Parse"/> reads (<c>fixed(5s)</c>).</summary>
internal sealed class BackoffPolicyJsonConverter : JsonConverter<BackoffPolicy>
{
    public override bool CanConvert(Type typeToConvert) => typeof(BackoffPolicy).IsAssignableFrom(typeToConvert);

    public override BackoffPolicy Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        BackoffPolicy.Parse(reader.GetString() ?? "");

    public override void Write(Utf8JsonWriter writer, BackoffPolicy value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
