using Bulwark.Client;

namespace Bulwark.Flows;

/// <summary>One named job of a flow, as added; validated into a <c>NewJob</c> when the flow is enqueued.</summary>
internal sealed record FlowNode(
    string Name,
    string Queue,
    string Type,
    object? Payload,
    string? PayloadJson,
    IReadOnlyList<string> DependsOn,
    Action<EnqueueOptions>? Configure);
