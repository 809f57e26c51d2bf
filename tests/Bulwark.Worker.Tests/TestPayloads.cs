namespace Bulwark.Worker.Tests;

public sealed record Empty;

public sealed record Sized(int Ms);
