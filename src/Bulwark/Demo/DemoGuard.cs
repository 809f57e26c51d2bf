using Bulwark.Workers;

namespace Bulwark.Demo;

/// <summary>Payload checks shared by the demo handlers: a bad number is a permanent failure that says what to change.</summary>
internal static class DemoGuard
{
    public static void NotNegative(int value, string field)
    {
        if (value < 0)
        {
            throw new PermanentJobException($"\"{field}\" cannot be negative (got {value}).");
        }
    }
}
