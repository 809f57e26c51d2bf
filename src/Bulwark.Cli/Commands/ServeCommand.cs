using System.CommandLine;
using Bulwark.Cli.Serve;
using Bulwark.Jobs;
using Bulwark.Server.Auth;
using Bulwark.Storage;
using Bulwark.Workers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bulwark.Cli.Commands;

/// <summary>
/// <c>bulwark serve</c>: the REST API, health probes, <c>/metrics</c>, maintenance and in-process demo workers on
/// <c>./bulwark.db</c> at <c>http://127.0.0.1:5080</c>. Prints the URL, the store and what to try next.
/// </summary>
internal static class ServeCommand
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = $"Where to listen, ';'-separated (default {DefaultUrl}). Beyond loopback only with API keys configured.", HelpName = "URLS" };
        var store = HostedCommand.StoreOption();
        var workers = CliValues.OptionalInt("--workers", "In-process demo worker slots (default Bulwark:Worker:Concurrency, else 4; 0 runs no workers).", 0, 10_000);
        var queues = HostedCommand.QueuesOption("Queues the in-process workers serve, comma-separated (default 'default').");
        var name = HostedCommand.NameOption();

        var command = new Command("serve", "Run the Bulwark server: REST API, health probes, /metrics, maintenance and demo workers.")
        {
            urls, store, workers, queues, name,
        };

        // Synchronous, like 'bulwark worker': the host alone owns SIGTERM/SIGINT and waits for the workers to drain.
        command.SetAction(r => Run(new ServeSettings
        {
            Urls = (r.GetValue(urls) ?? DefaultUrl).Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            StorePath = HostedCommand.StorePath(r.GetValue(store)),
            Workers = r.GetValue(workers),
            Queues = HostedCommand.Queues(r.GetValue(queues)),
            Name = r.GetValue(name),
        }));
        return command;
    }

    private static int Run(ServeSettings settings) => HostedCommand.Run(
        () =>
        {
            foreach (var url in settings.Urls)
            {
                if (!Uri.TryCreate(url.Replace("://*", "://wildcard", StringComparison.Ordinal).Replace("://+", "://wildcard", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                    || uri.Scheme is not ("http" or "https"))
                {
                    Console.Error.WriteLine($"bulwark: --urls '{url}' is not a URL; write it like {DefaultUrl}.");
                    return ExitCodes.Usage;
                }
            }

            foreach (var queue in settings.Queues ?? [])
            {
                JobValidator.ValidateQueue(queue);
            }

            if (settings.Name is not null && settings.Workers == 0)
            {
                Console.Error.WriteLine("bulwark: --name names the in-process worker, and --workers 0 runs none; drop --name or give --workers N.");
                return ExitCodes.Usage;
            }

            StoreSelection.Validate(settings.StorePath, folderMustExist: true);
            var storePath = StoreSelection.Describe(settings.StorePath);
            using var app = ServeHost.Build(StoreSelection.IsPostgres(settings.StorePath) ? settings : settings with { StorePath = Path.GetFullPath(settings.StorePath) });
            HostedCommand.ValidateConfiguration(app.Services);
            var keys = app.Services.GetRequiredService<ApiKeySet>();
            try
            {
                app.StartAsync().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // SIGTERM during start-up (a deploy, systemd stop): the in-process worker has registered by then, and the host
                // does not stop what it started. Stop it here, so it deregisters as stopped instead of being declared dead.
                app.StopAsync().GetAwaiter().GetResult();
                Console.WriteLine("bulwark serve: stopped before it finished starting.");
                return ExitCodes.Success;
            }

            var worker = app.Services.GetService<WorkerRuntime>();
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [.. settings.Urls];
            var url0 = bound.FirstOrDefault() ?? settings.Urls[0];
            var authLine = keys.Enabled ? $"API keys on ({keys.ReadCount} read, {keys.AdminCount} admin): send X-API-Key" : "no API keys configured: listening on loopback only";
            var keyFlag = keys.Enabled ? " --api-key $BULWARK_API_KEY" : "";
            var keyHeader = keys.Enabled ? " -H \"X-API-Key: $BULWARK_API_KEY\"" : "";
            Console.WriteLine($$$"""
                Bulwark server listening on {{{string.Join(", ", bound)}}}
                  store:   {{{storePath}}}
                  dashboard: {{{url0}}}/dashboard/   API: {{{url0}}}/api/v1   probes: {{{url0}}}/health/ready   metrics: {{{url0}}}/metrics
                  workers: {{{(worker is not null && app.Services.GetService<WorkerOptions>() is { } w ? $"{w.Concurrency} in-process demo worker slot(s) on queue(s) {(w.Queues.Count > 0 ? string.Join(',', w.Queues) : "default")} as worker {worker.Name} (--workers 0 turns them off)" : "none in this process (start some with 'bulwark worker')")}}}
                  auth:    {{{authLine}}}
                Try next:
                  bulwark enqueue default demo.sleep --payload '{"ms":500}' --url {{{url0}}}{{{keyFlag}}}
                  curl -s -X POST {{{url0}}}/api/v1/jobs{{{keyHeader}}} -H 'Content-Type: application/json' -d '{"queue":"default","type":"demo.noop","payload":{}}'
                  curl -s {{{url0}}}/api/v1/queues{{{keyHeader}}}
                  curl -s {{{url0}}}/metrics | grep bulwark_jobs
                Ctrl+C or SIGTERM drains the workers and stops.
                """);
            app.WaitForShutdownAsync().GetAwaiter().GetResult();
            Console.WriteLine("bulwark serve: stopped.");
            return ExitCodes.Success;
        },
        ex => ex switch
        {
            _ when HostedCommand.ConfigurationProblem(ex) is { } problem => (ExitCodes.Usage, problem),
            IOException or InvalidOperationException => (ExitCodes.Failure, ex.Message),
            _ => null,
        });
}
