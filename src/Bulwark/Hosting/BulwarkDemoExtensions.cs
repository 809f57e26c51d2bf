using Bulwark.Demo;

namespace Bulwark.Hosting;

/// <summary><c>builder.AddDemoHandlers()</c>: the built-in demo handlers of DESIGN.md §5.</summary>
public static class BulwarkDemoExtensions
{
    /// <summary>Registers demo.noop, demo.sleep, demo.cpu, demo.fail, demo.hang, demo.crash, demo.alloc, demo.append, demo.trace and demo.steps.</summary>
    public static BulwarkBuilder AddDemoHandlers(this BulwarkBuilder builder) => builder
        .AddHandler<DemoNoopHandler, DemoEmpty>("demo.noop")
        .AddHandler<DemoSleepHandler, DemoDuration>("demo.sleep")
        .AddHandler<DemoCpuHandler, DemoDuration>("demo.cpu")
        .AddHandler<DemoFailHandler, DemoFailPayload>("demo.fail")
        .AddHandler<DemoHangHandler, DemoEmpty>("demo.hang")
        .AddHandler<DemoCrashHandler, DemoEmpty>("demo.crash")
        .AddHandler<DemoAllocHandler, DemoAllocPayload>("demo.alloc")
        .AddHandler<DemoAppendHandler, DemoAppendPayload>("demo.append")
        .AddHandler<DemoTraceHandler, DemoTracePayload>("demo.trace")
        .AddHandler<DemoStepsHandler, DemoStepsPayload>("demo.steps");
}
