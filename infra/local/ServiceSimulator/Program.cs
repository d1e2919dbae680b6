using Storefront.ServiceSimulator;

var app = SimulatorApp.Create(args);
await app.StartAsync();
foreach (var url in app.Urls)
{
    // Logging is at Warning (no per-request logs); this one line tells scripts where to connect.
    Console.WriteLine($"ServiceSimulator listening on {url}");
}

await app.WaitForShutdownAsync();
