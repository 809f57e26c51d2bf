using System.Collections.Concurrent;
using System.Reflection;
using Bulwark.Jobs;
using Bulwark.Workers;

namespace Bulwark.Client;

/// <summary>
/// Which job type and queue a payload type means, for <c>EnqueueAsync(payload)</c>: the one handler registered for that
/// payload type (with the queue it declares), else a <see cref="JobTypeAttribute"/> on the payload type itself.
/// </summary>
internal sealed class JobTypeMap(IEnumerable<HandlerRegistration> registrations)
{
    private readonly ConcurrentDictionary<Type, (string Type, string Queue)> _resolved = new();

    public static JobTypeMap Empty { get; } = new([]);

    public (string Type, string Queue) Resolve(Type payloadType) => _resolved.GetOrAdd(payloadType, Find);

    private (string Type, string Queue) Find(Type payloadType)
    {
        var declared = payloadType.GetCustomAttribute<JobTypeAttribute>();
        var handlers = registrations.Where(r => r.PayloadType == payloadType).ToArray();
        if (handlers.Length > 1)
        {
            throw new InvalidOperationException(
                $"{payloadType.Name} is the payload of several job types ({string.Join(", ", handlers.Select(h => $"'{h.Type}'"))}), so EnqueueAsync(payload) cannot choose: name the type with EnqueueAsync(queue, type, payload), or give each job type its own payload type.");
        }

        if (handlers.Length == 1)
        {
            return (handlers[0].Type, handlers[0].DefaultQueue ?? declared?.Queue ?? "default");
        }

        if (declared is not null)
        {
            JobValidator.ValidateType(declared.Type);
            return (declared.Type, declared.Queue ?? "default");
        }

        throw new InvalidOperationException(
            $"No job type is known for the payload {payloadType.Name}: register its handler with AddHandler<THandler>() (the handler class declares [JobType(\"…\")]), "
            + $"put [JobType(\"…\", Queue = \"…\")] on {payloadType.Name} (for a process that only enqueues), or name the type with EnqueueAsync(queue, type, payload).");
    }
}
