namespace Bulwark.Workers;

/// <summary>The handlers of a host by job type; built once from the registrations in DI.</summary>
internal sealed class HandlerRegistry
{
    private readonly Dictionary<string, HandlerRegistration> _byType = new(StringComparer.Ordinal);

    public HandlerRegistry(IEnumerable<HandlerRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            // The last registration wins, as DI's own "last one wins" does; AddHandler rejects duplicates up front.
            _byType[registration.Type] = registration;
        }
    }

    public IReadOnlyCollection<string> Types => _byType.Keys;

    public bool TryGet(string type, out HandlerRegistration registration) => _byType.TryGetValue(type, out registration!);
}
