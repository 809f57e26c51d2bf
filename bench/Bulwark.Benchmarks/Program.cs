using Bulwark.Benchmarks;

var quick = args.Contains("--quick");
var command = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
switch (command)
{
    case "enqueue":
        return await EnqueueBenchmark.RunAsync(quick);
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Bulwark.Benchmarks -- enqueue [--quick]");
        return 2;
}
