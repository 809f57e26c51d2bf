using Microsoft.Extensions.Options;

namespace Bulwark.Hosting;

/// <summary>Reports the configuration errors found while reading a section, then the options' own checks, each prefixed with the section.</summary>
internal sealed class SectionOptionsValidator<TOptions>(string section, IReadOnlyList<string> readErrors, Func<TOptions, IReadOnlyList<string>> validate)
    : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = readErrors.Concat(validate(options).Select(e => $"{section}: {e}")).ToArray();
        return errors.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
