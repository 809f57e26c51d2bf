using Bulwark.Jobs;

namespace Bulwark.Workers;

/// <summary>Maps a handler's exception to a failure category (DESIGN.md §2), as the worker records it.</summary>
public static class FailureClassifier
{
    /// <summary>The category of an attempt that ended with <paramref name="exception"/>.</summary>
    public static FailureCategory Classify(Exception exception) => exception switch
    {
        PermanentJobException or PayloadException => FailureCategory.Permanent,
        // Bug-like exceptions: the code, not the world, is wrong. Still retried by default (a deploy may fix it).
        NullReferenceException or InvalidCastException or IndexOutOfRangeException or ArgumentException
            or KeyNotFoundException or DivideByZeroException or FormatException or NotImplementedException
            or NotSupportedException or InvalidProgramException or StackOverflowException or AccessViolationException => FailureCategory.System,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Classify(aggregate.InnerExceptions[0]),
        _ => FailureCategory.Temporary,
    };
}
