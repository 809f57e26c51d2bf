using System.Globalization;
using System.Reflection;
using Bulwark.Jobs;
using Microsoft.Extensions.Configuration;

namespace Bulwark.Hosting;

/// <summary>
/// Applies a configuration section (<c>Bulwark:Worker</c>, …) to an options object: public settable properties of simple
/// types, string lists and string→int maps. Durations take <c>250ms</c>, <c>30s</c>, <c>1h30m</c> or <c>00:00:30</c>.
/// Every malformed value and every unknown key becomes a message naming the key and what to write instead, so a typo
/// in appsettings.json fails the start rather than being ignored.
/// </summary>
internal static class OptionsSectionReader
{
    public static IReadOnlyList<string> Apply(IConfigurationSection section, object target, params string[] skip)
    {
        var errors = new List<string>();
        var properties = target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => !skip.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (skip.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!properties.TryGetValue(child.Key, out var property))
            {
                var known = string.Join(", ", properties.Values.Where(Bindable).Select(p => p.Name).Order(StringComparer.Ordinal));
                errors.Add($"{child.Path} is not a known option; check the spelling (known: {known}).");
                continue;
            }

            var error = ApplyOne(child, target, property);
            if (error is not null)
            {
                errors.Add(error);
            }
        }

        return errors;
    }

    /// <summary>Parses a duration value, or returns a message naming the key.</summary>
    public static string? ReadDuration(IConfigurationSection section, out TimeSpan? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(section.Value))
        {
            return null;
        }

        if (DurationText.TryParse(section.Value, out var parsed))
        {
            value = parsed;
            return null;
        }

        return $"{section.Path} is '{section.Value}'; write a duration like 250ms, 30s, 5m, 2h, 7d or 00:00:30.";
    }

    private static bool Bindable(PropertyInfo p) =>
        (p.CanWrite && p.SetMethod!.IsPublic) || p.PropertyType == typeof(IList<string>) || p.PropertyType == typeof(IDictionary<string, int>);

    private static string? ApplyOne(IConfigurationSection child, object target, PropertyInfo property)
    {
        var type = property.PropertyType;
        if (type == typeof(IList<string>))
        {
            var list = (IList<string>)property.GetValue(target)!;
            list.Clear();
            // An array (Queues:0, Queues:1) or one comma-separated value ("email,default", handy in environment variables).
            var items = child.Value is { } single ? single.Split(',') : child.GetChildren().Select(c => c.Value ?? "");
            foreach (var item in items.Select(i => i.Trim()).Where(i => i.Length > 0))
            {
                list.Add(item);
            }

            return null;
        }

        if (type == typeof(IDictionary<string, int>))
        {
            var map = (IDictionary<string, int>)property.GetValue(target)!;
            foreach (var entry in child.GetChildren())
            {
                if (!int.TryParse(entry.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
                {
                    return $"{entry.Path} is '{entry.Value}'; give a whole number.";
                }

                map[entry.Key] = n;
            }

            return null;
        }

        if (!property.CanWrite || !property.SetMethod!.IsPublic)
        {
            return $"{child.Path} cannot be set from configuration; set it in code.";
        }

        var text = child.Value;
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (string.IsNullOrWhiteSpace(text))
        {
            if (underlying != type || type == typeof(string))
            {
                property.SetValue(target, null);
                return null;
            }

            return $"{child.Path} is empty; give a value or remove the key to keep the default.";
        }

        object? value = null;
        var ok = true;
        if (underlying == typeof(string))
        {
            value = text;
        }
        else if (underlying == typeof(int))
        {
            ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n);
            value = n;
        }
        else if (underlying == typeof(long))
        {
            ok = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n);
            value = n;
        }
        else if (underlying == typeof(bool))
        {
            ok = bool.TryParse(text, out var b);
            value = b;
        }
        else if (underlying == typeof(TimeSpan))
        {
            var error = ReadDuration(child, out var d);
            if (error is not null)
            {
                return error;
            }

            value = d;
        }
        else
        {
            return $"{child.Path} cannot be set from configuration; set it in code.";
        }

        if (!ok)
        {
            var expected = underlying == typeof(bool) ? "true or false" : "a whole number";
            return $"{child.Path} is '{text}'; give {expected}.";
        }

        property.SetValue(target, value);
        return null;
    }
}
