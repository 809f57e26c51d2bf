using System.Reflection;
using System.Text;

namespace Bulwark.Packaging.Tests;

/// <summary>
/// The public API of each library package, as text, against the approved baseline in <c>api/&lt;Assembly&gt;.txt</c>:
/// a breaking (or any) change to the public surface shows as a diff in review. To accept a change, run the tests with
/// <c>BULWARK_ACCEPT_API=1</c> (it rewrites the baselines) and commit the diff.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Assemblies => new() { "Bulwark", "Bulwark.Sqlite", "Bulwark.Postgres", "Bulwark.Server", "Bulwark.Testing", "Bulwark.EntityFrameworkCore" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void The_public_api_matches_the_approved_baseline(string name)
    {
        var actual = Describe(Assembly.Load(name));
        var path = Repository.PathOf("api", name + ".txt");
        if (Environment.GetEnvironmentVariable("BULWARK_ACCEPT_API") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"No API baseline at {path}: run the tests with BULWARK_ACCEPT_API=1 to write it, then review and commit it.");
        var approved = File.ReadAllText(path).ReplaceLineEndings("\n");
        if (approved != actual)
        {
            var added = actual.Split('\n').Except(approved.Split('\n')).Select(l => "+ " + l);
            var removed = approved.Split('\n').Except(actual.Split('\n')).Select(l => "- " + l);
            Assert.Fail($"The public API of {name} differs from api/{name}.txt. If the change is intended, run the tests with "
                + $"BULWARK_ACCEPT_API=1 and commit the new baseline.{Environment.NewLine}{string.Join(Environment.NewLine, removed.Concat(added).Take(60))}");
        }
    }

    [Fact]
    public void The_description_lists_members_with_their_signatures_and_nullability()
    {
        // The description must see members, not only types, or the baseline would miss most breaking changes.
        var text = Describe(typeof(Bulwark.Client.JobClient).Assembly);
        Assert.Contains("Bulwark.Client.IJobClient", text, StringComparison.Ordinal);
        Assert.Contains("  System.Threading.Tasks.Task<long> EnqueueAsync<TPayload>(TPayload? payload, System.Action<Bulwark.Client.EnqueueOptions>? configure = default, System.Threading.CancellationToken cancellationToken = default)", text, StringComparison.Ordinal);
        Assert.Contains("  string? AdminPolicy { get; set; }", Describe(typeof(Bulwark.Server.BulwarkServerOptions).Assembly), StringComparison.Ordinal);
    }

    internal static string Describe(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            lines.Add($"{Kind(type)} {Name(type)}{Bases(type)}");
            const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(Declared)
                .Where(Visible)
                .Where(m => m is not MethodInfo { IsSpecialName: true } && m is not Type)
                .Select(m => "  " + Member(m))
                .Order(StringComparer.Ordinal);
            lines.AddRange(members);
        }

        return string.Join("\n", lines) + "\n";
    }

    private static bool Visible(MemberInfo member) => member switch
    {
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
        EventInfo e => e.AddMethod is { } add && (add.IsPublic || add.IsFamily),
        _ => false,
    };

    private static string Kind(Type type) =>
        type.IsInterface ? "interface"
        : type.IsEnum ? "enum"
        : type.IsValueType ? (type.GetMethod("<Clone>$") is null && type.GetProperty("EqualityContract", BindingFlags.NonPublic | BindingFlags.Instance) is null ? "struct" : "record struct")
        : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
        : type.GetMethod("<Clone>$") is not null ? (type.IsSealed ? "sealed record" : "record")
        : type.IsAbstract && type.IsSealed ? "static class"
        : type.IsAbstract ? "abstract class"
        : type.IsSealed ? "sealed class"
        : "class";

    private static string Bases(Type type)
    {
        var bases = new List<string>();
        if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) && b != typeof(MulticastDelegate))
        {
            bases.Add(Name(b));
        }

        bases.AddRange(type.GetInterfaces().Where(i => !i.Name.StartsWith("IEquatable", StringComparison.Ordinal)).Select(Name).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? "" : " : " + string.Join(", ", bases);
    }

    private static string Member(MemberInfo member) => member switch
    {
        ConstructorInfo c => $"{Static(c)}.ctor({Parameters(c)})",
        MethodInfo m => $"{Static(m)}{Name(m.ReturnType, m.ReturnParameter)} {m.Name}{GenericArguments(m)}({Parameters(m)})",
        PropertyInfo p => $"{(p.GetAccessors(true).Any(a => a.IsStatic) ? "static " : "")}{Name(p.PropertyType, p)} {p.Name} {{ {Accessors(p)}}}",
        FieldInfo f => $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{Name(f.FieldType, f)} {f.Name}{(f.IsLiteral ? " = " + Literal(f.GetRawConstantValue()) : "")}",
        EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
        _ => member.ToString() ?? member.Name,
    };

    private static string Accessors(PropertyInfo p)
    {
        var text = new StringBuilder();
        if (p.GetMethod is { } get && (get.IsPublic || get.IsFamily))
        {
            text.Append("get; ");
        }

        if (p.SetMethod is { } set && (set.IsPublic || set.IsFamily))
        {
            var init = set.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit");
            text.Append(init ? "init; " : "set; ");
        }

        return text.ToString();
    }

    private static string Static(MethodBase m) => (m.IsStatic ? "static " : "") + (m.IsAbstract && !m.DeclaringType!.IsInterface ? "abstract " : m.IsVirtual && !m.IsFinal && !m.DeclaringType!.IsInterface ? "virtual " : "");

    private static string GenericArguments(MethodInfo m) => m.IsGenericMethod ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p =>
        $"{(p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : "")}{(p.GetCustomAttributes().Any(a => a.GetType().Name == "ParamArrayAttribute") ? "params " : "")}{Name(p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType, p)} {p.Name}{(p.HasDefaultValue ? " = " + Literal(p.DefaultValue) : "")}"));

    private static string Literal(object? value) => value switch
    {
        null => "default",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "default",
    };

    private static readonly NullabilityInfoContext Nullability = new();

    private static string Name(Type type, ParameterInfo parameter) => Name(type, Nullness(() => Nullability.Create(parameter)));

    private static string Name(Type type, PropertyInfo property) => Name(type, Nullness(() => Nullability.Create(property)));

    private static string Name(Type type, FieldInfo field) => Name(type, Nullness(() => Nullability.Create(field)));

    private static NullabilityInfo? Nullness(Func<NullabilityInfo> create)
    {
        try
        {
            return create();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string Name(Type type, NullabilityInfo? nullability)
    {
        var name = Name(type);
        return nullability?.ReadState == NullabilityState.Nullable && !type.IsValueType ? name + "?" : name;
    }

    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        var full = type.Namespace is null ? type.Name : type.Namespace + "." + type.Name;
        if (type.IsNested)
        {
            full = Name(type.DeclaringType!) + "." + type.Name;
        }

        if (!type.IsGenericType)
        {
            return full switch
            {
                "System.Void" => "void",
                "System.String" => "string",
                "System.Int32" => "int",
                "System.Int64" => "long",
                "System.Boolean" => "bool",
                "System.Double" => "double",
                "System.Object" => "object",
                _ => full,
            };
        }

        var tick = full.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? full : full[..tick]) + "<" + string.Join(", ", type.GetGenericArguments().Select(Name)) + ">";
    }
}
