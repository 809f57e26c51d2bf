namespace Bulwark.Dashboard.Tests;

/// <summary>A downstream service the test takes down and brings back: jobs of "test.flaky" fail while it is down.</summary>
public sealed class FlakyDownstream
{
    private volatile bool _down = true;

    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    public Task CallAsync() => _down
        ? throw new HttpRequestException("downstream unavailable: connection refused (test.flaky)")
        : Task.CompletedTask;
}
