namespace Bulwark.Demo;

// The payload shapes of the built-in demo handlers (DESIGN.md §5), read with the client's web JSON defaults.
internal sealed record DemoEmpty;

internal sealed record DemoDuration(int Ms);

internal sealed record DemoFailPayload(int Times, string? Category);

internal sealed record DemoAllocPayload(int Mb, int Ms);

internal sealed record DemoAppendPayload(string Path, string Line);

internal sealed record DemoTracePayload(string Dir, int Ms, int Fail);

internal sealed record DemoStepsPayload(int Steps, int Ms);

internal sealed record DemoStepsCheckpoint(int Step);
