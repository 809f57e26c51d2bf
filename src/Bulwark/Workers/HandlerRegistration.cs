using System.Text.Json;

namespace Bulwark.Workers;

/// <summary>One job type's handler as registered in DI: reads the payload and invokes the handler in a job's scope.</summary>
internal sealed class HandlerRegistration(string type, Type payloadType, Func<IServiceProvider, object, JobContext, Task<object?>> invoke, string? defaultQueue = null)
{
    public string Type { get; } = type;

    /// <summary>The queue the handler declares (<see cref="JobTypeAttribute.Queue"/>), used by <c>EnqueueAsync(payload)</c>.</summary>
    public string? DefaultQueue { get; } = defaultQueue;

    public Type PayloadType { get; } = payloadType;

    public object Deserialize(string json, JsonSerializerOptions options)
    {
        try
        {
            return JsonSerializer.Deserialize(json, PayloadType, options)
                ?? throw new PayloadException($"The payload of a '{Type}' job is null; it must be a JSON object for {PayloadType.Name}.", null);
        }
        catch (JsonException ex)
        {
            throw new PayloadException($"The payload of a '{Type}' job cannot be read as {PayloadType.Name}: {ex.Message}", ex);
        }
        catch (NotSupportedException ex)
        {
            throw new PayloadException($"The payload of a '{Type}' job cannot be read as {PayloadType.Name}: {ex.Message}", ex);
        }
    }

    public Task<object?> InvokeAsync(IServiceProvider services, object payload, JobContext context) => invoke(services, payload, context);
}
