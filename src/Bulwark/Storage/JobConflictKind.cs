namespace Bulwark.Storage;

/// <summary>Classifies a <see cref="JobConflictException"/>.</summary>
public enum JobConflictKind
{
    /// <summary>A job it depends on ended failed, dead_letter or cancelled.</summary>
    DependencyNotCompleted,
    /// <summary>A live job holds the same idempotency key.</summary>
    KeyHeld,
}
