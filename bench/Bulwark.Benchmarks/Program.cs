using Bulwark.Benchmarks;

var quick = args.Contains("--quick");
var command = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
switch (command)
{
    case "enqueue":
        return await EnqueueBenchmark.RunAsync(quick);
    case "index-cost":
        return await IndexCostBenchmark.RunAsync();
    case "store-ops":
        return await StoreOpsBenchmark.RunAsync();
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Bulwark.Benchmarks -- enqueue [--quick] | index-cost | store-ops");
        return 2;
}
