using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Npgsql;
using Storefront.Api.ExternalServices;
using Storefront.Benchmarks;
using Storefront.DevStack;
using Storefront.FunctionsHost;

// The benchmark orchestration (see README.md). Starts its own PostgreSQL and Azurite through the dev stack
// (infra/local/DevStack); ./tests/Performance/Benchmarks/run.sh installs the load generators and runs it.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var metadata = typeof(Variants).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value!);
var repo = metadata["RepoRoot"];
var configuration = metadata["Configuration"];

// --- Settings: options, each defaulting to the environment variable README.md names --------------------------------
var secondsOption = new Option<int>("--seconds") { Description = "Seconds per load step (BENCH_SECONDS).", DefaultValueFactory = _ => EnvInt("BENCH_SECONDS", 10) };
var appPortOption = new Option<int>("--app-port") { Description = "The app's port; the side-by-side variants take +10, +11 and +15 (BENCH_APP_PORT).", DefaultValueFactory = _ => EnvInt("BENCH_APP_PORT", 7491) };
var simulatorPortOption = new Option<int>("--simulator-port") { Description = "The simulator's port (BENCH_SIMULATOR_PORT).", DefaultValueFactory = _ => EnvInt("BENCH_SIMULATOR_PORT", 7492) };
var outputOption = new Option<string>("--output") { Description = "Results folder (BENCH_OUTPUT).", DefaultValueFactory = _ => Env("BENCH_OUTPUT", Path.Combine(repo, "tests/Performance/Benchmarks/results")) };
var baselineOption = new Option<string?>("--baseline-app") { Description = "Build output of a baseline build to read side by side (BENCH_BASELINE_APP).", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BENCH_BASELINE_APP") is { Length: > 0 } b ? b : null };
var pythonOption = new Option<string>("--python") { Description = "Python with the FastAPI variant's packages (BENCH_PYTHON).", DefaultValueFactory = _ => Env("BENCH_PYTHON", "/usr/bin/python3") };
var readsOnlyOption = new Option<bool>("--reads-only") { Description = "Only the side-by-side product read (BENCH_READS_ONLY=1).", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BENCH_READS_ONLY") == "1" };
var stateOption = new Option<string>("--state") { Description = "The stack's state folder (STOREFRONT_STATE_DIR).", DefaultValueFactory = _ => Env("STOREFRONT_STATE_DIR", "/tmp/bench-state") };
var postgresPortOption = new Option<int>("--postgres-port") { Description = "PostgreSQL's port (STOREFRONT_PG_PORT).", DefaultValueFactory = _ => EnvInt("STOREFRONT_PG_PORT", 15491) };
var azuritePortOption = new Option<int>("--azurite-port") { Description = "Azurite's blob port; queue and table take the next two (STOREFRONT_AZURITE_PORT).", DefaultValueFactory = _ => EnvInt("STOREFRONT_AZURITE_PORT", 10090) };
var parsed = new RootCommand("The benchmarks (see README.md).")
{
    secondsOption, appPortOption, simulatorPortOption, outputOption, baselineOption, pythonOption, readsOnlyOption, stateOption, postgresPortOption, azuritePortOption,
}.Parse(args);
if (parsed.Errors.Count > 0 || parsed.Action is not null)
{
    // --help (an action) prints and ends here, as do errors.
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"bench: {error.Message}");
    }

    return parsed.Errors.Count > 0 ? 2 : await parsed.InvokeAsync();
}

var appPort = parsed.GetValue(appPortOption);
var simulatorPort = parsed.GetValue(simulatorPortOption);
var duration = TimeSpan.FromSeconds(parsed.GetValue(secondsOption));
var output = Path.GetFullPath(parsed.GetValue(outputOption)!);
var appDirectory = Path.Combine(repo, $"functions/Storefront.Api/bin/{configuration}/net10.0");
var cliDll = Path.Combine(repo, $"infra/local/FunctionsHost.Cli/bin/{configuration}/net10.0/FunctionsHost.Cli.dll");
var simulatorDll = Path.Combine(repo, $"infra/local/ServiceSimulator/bin/{configuration}/net10.0/ServiceSimulator.dll");
const string MasterKey = "bench-master-key";
const string FunctionKey = "bench-function-key";
const int DependencyMs = 50;
const int PaymentMs = 500;
const string Sku = "SKU-00042";
const int SeededSkus = 10_000;
// One step per variant is too noisy on a shared machine for a ratio between two of them; these rounds pool three more of each.
const int Rounds = 3;
int[] readConnections = [1, 64, 256, 1024];
var baselineApp = parsed.GetValue(baselineOption) is { Length: > 0 } baseline ? Path.GetFullPath(baseline) : null;
var python = parsed.GetValue(pythonOption)!;
var readsOnly = parsed.GetValue(readsOnlyOption);

// --- PostgreSQL and Azurite: the dev stack on this run's ports and state folder, migrated and seeded ----------------
foreach (var port in new[] { appPort, simulatorPort, appPort + 10, appPort + 11, appPort + 15 })
{
    await Ports.EnsureFreeAsync(port, "benchmark", "pass --app-port / --simulator-port", CancellationToken.None);
}

await using var stack = await DevStack.StartAsync(
    new DevStackOptions
    {
        StateDirectory = Path.GetFullPath(parsed.GetValue(stateOption)!),
        LogDirectory = Path.Combine(Path.GetFullPath(parsed.GetValue(stateOption)!), "logs"),
        PostgresPort = parsed.GetValue(postgresPortOption),
        AzuritePort = parsed.GetValue(azuritePortOption),
        SeedProducts = SeededSkus,
        PortHint = "pass --postgres-port / --azurite-port",
    },
    message => Log(message),
    CancellationToken.None);

// Every variant gets a pool of at most 40 connections (FastAPI: 2 workers x 20): they run side by side and the local
// PostgreSQL allows 200.
var postgres = new NpgsqlConnectionStringBuilder(stack.PostgresConnectionString) { MaxPoolSize = 40 }.ConnectionString;

var report = new Report(duration);
var simulatorUri = new Uri($"http://127.0.0.1:{simulatorPort}/");
var appUri = new Uri($"http://127.0.0.1:{appPort}/");
var settings = stack.AppSettings(simulatorUri);
settings["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
settings["ConnectionStrings__Postgres"] = postgres;
settings["FUNCTIONS_HOST_MASTER_KEY"] = MasterKey;
settings["FUNCTIONS_HOST_FUNCTION_KEY"] = FunctionKey;
settings["Recovery__SweepSchedule"] = "*/30 * * * * *";

// The app runs with its production settings: 250 ms per read call, 800 ms per read.
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
var started = DateTimeOffset.UtcNow;
Log($"benchmark start {started:u}; {Environment.ProcessorCount} cores; {duration.TotalSeconds} s per load step");

// --- Simulator: its own process, so that its CPU is its own, ahead of the rest where it may be (SimulatorCommand) ----
var (simulatorFile, simulatorArguments) = SimulatorCommand.For(simulatorDll, "--urls", simulatorUri.ToString().TrimEnd('/'),
    $"--Simulator:Services:inventory:LatencyMs={DependencyMs}", $"--Simulator:Services:reviews:LatencyMs={DependencyMs}",
    $"--Simulator:Services:fx:LatencyMs={DependencyMs}", $"--Simulator:Services:payments:LatencyMs={PaymentMs}");
using var simulator = StartProcess(simulatorFile, simulatorArguments, null);
await WaitForAsync(new Uri(simulatorUri, "health"), TimeSpan.FromSeconds(30));
var postgresPid = await PostmasterPidAsync(postgres);

try
{
    // --- 4. Cold start: FunctionsHost.Cli as a new process, to the first 200 of /api/health ---------------------------
    for (var i = 0; i < 3; i++)
    {
        var clock = Stopwatch.StartNew();
        using var cli = StartProcess("dotnet", [cliDll, "--app", appDirectory, "--port", appPort.ToString(CultureInfo.InvariantCulture)], settings);
        var ok = await WaitForAsync(new Uri(appUri, "api/health"), TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;
        var status = await http.GetFromJsonAsync<JsonElement>(new Uri(appUri, $"admin/host/status?code={MasterKey}"));
        var workerPid = status.GetProperty("processId").GetInt32();
        report.ColdStarts.Add((elapsed.TotalMilliseconds, ok, ProcStat.PeakRssMiB(workerPid)));
        Log($"cold start {i + 1}: {elapsed.TotalMilliseconds:F0} ms to the first 200 of /api/health (worker pid {workerPid})");
        await StopProcessAsync(cli);
    }

    // --- 1. The product read side by side: this build, the baseline build, a minimal API, FastAPI --------------------
    var sideBySidePort = appPort + 10;
    Process StartHost(string app, int port) => StartProcess("dotnet", [cliDll, "--app", app, "--port", port.ToString(CultureInfo.InvariantCulture)], settings);
    var builds = new List<(string Name, string Directory)> { ("this build", appDirectory) };
    if (baselineApp is not null)
    {
        builds.Add(("baseline build", baselineApp));
    }

    foreach (var (name, directory) in builds)
    {
        report.FirstReads.Add(await ReadComparison.FirstReadsAfterStartAsync(name, () => StartHost(directory, sideBySidePort), sideBySidePort, 10, 1, SeededSkus, StopProcessAsync, Log));
        report.FirstReads.Add(await ReadComparison.FirstReadsAfterStartAsync(name, () => StartHost(directory, sideBySidePort), sideBySidePort, 3, 50, SeededSkus, StopProcessAsync, Log));
        report.LoadsFromStart.Add(await ReadComparison.LoadFromStartAsync(
            name, () => StartHost(directory, sideBySidePort), sideBySidePort, 3, 256, duration, SeededSkus, simulatorUri, StopProcessAsync, Log));
    }

    var readVariants = new List<ReadVariant>();
    try
    {
        for (var i = 0; i < builds.Count; i++)
        {
            var port = sideBySidePort + i;
            var cli = StartHost(builds[i].Directory, port);
            var address = new Uri($"http://127.0.0.1:{port}/");
            readVariants.Add(new ReadVariant($"{builds[i].Name} (local host)", address, cli.Id, () => 0) { Stop = async () => await StopProcessAsync(cli) });
            if (!await WaitForAsync(new Uri(address, "api/health"), TimeSpan.FromSeconds(60)))
            {
                throw new InvalidOperationException($"{builds[i].Name} did not start");
            }

            var status = await http.GetFromJsonAsync<JsonElement>(new Uri(address, $"admin/host/status?code={MasterKey}"));
            var workerPid = status.GetProperty("processId").GetInt32();
            readVariants[^1] = readVariants[^1] with { AppCpuSeconds = () => ProcStat.CpuSeconds(workerPid) };
        }

        var minimal = await MinimalApi.StartAsync(simulatorUri, postgres, (await HostJson.LoadAsync(appDirectory, CancellationToken.None)).HttpThrottles);
        readVariants.Add(new ReadVariant("minimal API (same read, no Functions host)", minimal.BaseAddress, 0, () => ProcStat.CpuSeconds(Environment.ProcessId))
        {
            Stop = minimal.DisposeAsync,
        });
        if (FastApi.Available(python))
        {
            var fastApiPort = sideBySidePort + 5;
            var fastApi = FastApi.Start(python, fastApiPort, postgres, simulatorUri);
            readVariants.Add(new ReadVariant(Report.FastApiVariant, new Uri($"http://127.0.0.1:{fastApiPort}/"), 0, () => ProcStat.TreeCpuSeconds(fastApi.Id))
            {
                Stop = async () => await StopProcessAsync(fastApi),
            });
            if (!await WaitForAsync(new Uri($"http://127.0.0.1:{fastApiPort}/api/products/{Sku}?currency=EUR"), TimeSpan.FromSeconds(60)))
            {
                throw new InvalidOperationException("the FastAPI variant did not start");
            }
        }
        else
        {
            Log($"FastAPI variant skipped: {python} cannot import fastapi, uvicorn, asyncpg, aiohttp, uvloop, httptools (see README.md)");
        }

        report.ReadSteps.AddRange(await ReadComparison.RunAsync(
            readVariants, readConnections, c => c >= 1024 && duration < TimeSpan.FromSeconds(15) ? TimeSpan.FromSeconds(15) : duration,
            SeededSkus, simulatorUri, postgresPid, simulator.Id, report.Recoveries, Log));
        // The variants the targets compare: this build with the baseline build (worker CPU) and with FastAPI (whole answers/s).
        var compared = readVariants.Take(builds.Count).Concat(readVariants.Where(v => v.Name == Report.FastApiVariant)).ToList();
        if (compared.Count > 1)
        {
            Log($"{string.Join(", ", compared.Select(v => v.Name))} in alternating rounds");
            report.Rounds.AddRange(await ReadComparison.RoundsAsync(compared, [64, 256], Rounds, duration, SeededSkus, simulatorUri, postgresPid, simulator.Id, Log));
        }
    }
    finally
    {
        foreach (var variant in readVariants)
        {
            await variant.DisposeAsync();
        }
    }

    // BENCH_READS_ONLY=1 stops here: the side-by-side product read alone, for iterating on it.
    if (!readsOnly)
    {
        // --- The app through the local host, in this process ------------------------------------------------------------
        var host = await FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            AppDirectory = appDirectory,
            HttpPort = appPort,
            UseLocalSettingsFile = false,
            Settings = settings,
            ShutdownGracePeriod = TimeSpan.FromSeconds(3),
        });
        var worker = host.WorkerProcessId ?? throw new InvalidOperationException("no worker");
        var productUrl = new Uri(appUri, $"api/products/{Sku}?currency=EUR").ToString();
        // Warm the worker (JIT, pools) and the FX cache.
        for (var i = 0; i < 30; i++)
        {
            using var warm = await http.GetAsync(new Uri(productUrl));
        }

        await Hey.RunAsync("warm-up", productUrl, 8, TimeSpan.FromSeconds(3));

        var openApi = await http.GetByteArrayAsync(new Uri(appUri, "api/openapi.yaml"));
        await using var variants = await Variants.StartAsync(simulatorUri, postgres, openApi);
        await Hey.RunAsync("warm-up", new Uri(variants.BaseAddress, $"variants/concurrent/{Sku}").ToString(), 8, TimeSpan.FromSeconds(2));

        // --- Host overhead: trivial function through the host vs the same bytes from bare Kestrel ----------------------
        ProcStat.ResetPeakRss(worker);
        var trivial = await Hey.RunAsync("GET /api/openapi.yaml (host + worker)", new Uri(appUri, "api/openapi.yaml").ToString(), 1, duration / 2);
        report.Add(7, trivial, ProcStat.PeakRssMiB(worker));
        var bare = await Hey.RunAsync("same bytes, bare Kestrel", new Uri(variants.BaseAddress, "variants/static").ToString(), 1, duration / 2);
        report.Add(7, bare, double.NaN);
        var health = await Hey.RunAsync("GET /api/health (Postgres + storage)", new Uri(appUri, "api/health").ToString(), 1, duration / 2);
        report.Add(7, health, ProcStat.PeakRssMiB(worker));
        Log(trivial.Summary);
        Log(bare.Summary);
        Log(health.Summary);

        // --- 3. Order acceptance, inline processing, queue drain -----------------------------------------------------
        var writeServices = new ServiceCollectionLite(simulatorUri);
        var accept = new List<double>();
        var inline = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            var clock = Stopwatch.StartNew();
            var accepted = await PlaceOrderAsync(http, appUri, i);
            accept.Add(clock.Elapsed.TotalMilliseconds);
            _ = accepted;
        }

        for (var i = 0; i < 15; i++)
        {
            var clock = Stopwatch.StartNew();
            var order = await PlaceOrderAsync(http, appUri, 1000 + i);
            // What ProcessOrder does, but inside the request: payment, then shipment, then the notification.
            await writeServices.Payments.AuthorizeAsync(order, $"bench-{i}", 10m, "EUR", CancellationToken.None);
            await writeServices.Shipping.BookAsync(order, "NL", "1011 AB", [new ShipmentItem(Sku, 1)], CancellationToken.None);
            await writeServices.Notifications.SendAsync("bench@example.com", "order-confirmed", new { orderId = order }, CancellationToken.None);
            inline.Add(clock.Elapsed.TotalMilliseconds);
        }

        report.Orders.Add(("POST /api/orders (202, processing on the queue)", accept));
        report.Orders.Add(("POST /api/orders + payment, shipment, notification inline", inline));
        Log($"orders: accept p50 {Report.Percentile(accept, 50):F1} ms, inline p50 {Report.Percentile(inline, 50):F1} ms");

        report.Drains.Add(await DrainAsync(http, appUri, postgres, 16, worker));

        // --- Reports: worker peak memory over 1,000 vs 1,000,000 order lines ---------------------------------------------
        report.Reports.AddRange(await ReportMemory.RunAsync(http, appUri, postgres, FunctionKey, worker, Log));
        await host.DisposeAsync();

        // The same app with host.json queues.batchSize = 4 (a copy of the build output in a temporary folder).
        var smallBatchApp = Path.Combine(Path.GetTempPath(), $"storefront-bench-app-{Environment.ProcessId}");
        CopyDirectory(appDirectory, smallBatchApp);
        var hostJsonPath = Path.Combine(smallBatchApp, "host.json");
        File.WriteAllText(hostJsonPath, File.ReadAllText(hostJsonPath).Replace("\"batchSize\": 16", "\"batchSize\": 4", StringComparison.Ordinal));
        var host4 = await FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            AppDirectory = smallBatchApp,
            HttpPort = appPort,
            UseLocalSettingsFile = false,
            Settings = settings,
            ShutdownGracePeriod = TimeSpan.FromSeconds(3),
        });
        try
        {
            for (var i = 0; i < 10; i++)
            {
                using var warm = await http.GetAsync(new Uri(productUrl));
            }

            report.Drains.Add(await DrainAsync(http, appUri, postgres, 4, host4.WorkerProcessId ?? 0));
        }
        finally
        {
            await host4.DisposeAsync();
            Directory.Delete(smallBatchApp, recursive: true);
        }

        // --- 2. Concurrent vs sequential vs blocking (in-process variants, same clients) -----------------------------
        // Last, with the local host stopped: the blocking variant starves this process's thread pool, and the requests hey
        // gives up on keep running here for a while after each step.
        foreach (var variant in new[] { "concurrent", "sequential", "blocking" })
        {
            foreach (var connections in new[] { 1, 64, 256 })
            {
                var result = await Hey.RunAsync(variant, new Uri(variants.BaseAddress, $"variants/{variant}/{Sku}").ToString(), connections, duration);
                report.Add(2, result, double.NaN);
                Log(result.Summary);
            }
        }
    }
}
finally
{
    await StopProcessAsync(simulator);
}

Directory.CreateDirectory(output);
await File.WriteAllTextAsync(Path.Combine(output, "results.md"), report.Markdown(started, Machine()));
await File.WriteAllTextAsync(Path.Combine(output, "chart.svg"), report.Svg());
Console.WriteLine();
foreach (var line in report.Headlines())
{
    Console.WriteLine(line);
}

Console.WriteLine($"results: {Path.Combine(output, "results.md")}, chart: {Path.Combine(output, "chart.svg")}");
return 0;

static async Task<Guid> PlaceOrderAsync(HttpClient http, Uri app, int n)
{
    // Skus whose simulated stock is never short (not 13, not multiples of 89 or 97).
    var number = 1 + (n * 7 % 5000);
    while (number == 13 || number % 89 == 0 || number % 97 == 0)
    {
        number++;
    }

    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app, "api/orders"))
    {
        Content = JsonContent.Create(new
        {
            customerId = $"bench-{n}",
            email = "bench@example.com",
            currency = "EUR",
            lines = new[] { new { sku = $"SKU-{number:D5}", quantity = 1 } },
            shipTo = new { country = "NL", postcode = "1011 AB" },
        }),
    };
    request.Headers.Add("Idempotency-Key", $"b{n}-{Guid.NewGuid():N}");
    request.Headers.Add("x-functions-key", "bench-function-key");
    using var response = await http.SendAsync(request);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"POST /api/orders answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
}

// Places N orders (32 at a time), then measures confirmations per second from the orders' own timestamps.
static async Task<DrainResult> DrainAsync(HttpClient http, Uri app, string postgres, int batchSize, int worker)
{
    const int Orders = 160;
    ProcStat.ResetPeakRss(worker);
    var ids = new Guid[Orders];
    var next = -1;
    var placing = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < Orders)
        {
            ids[i] = await PlaceOrderAsync(http, app, (batchSize * 10000) + i);
        }
    }));
    var placed = placing.Elapsed;
    await using var db = NpgsqlDataSource.Create(postgres);
    var deadline = DateTime.UtcNow.AddSeconds(120);
    long confirmed = 0;
    double spanSeconds = double.NaN;
    while (DateTime.UtcNow < deadline)
    {
        await using var command = db.CreateCommand(
            "SELECT count(*) FILTER (WHERE status = 'confirmed'), count(*) FILTER (WHERE status IN ('accepted','processing')), " +
            "EXTRACT(EPOCH FROM max(updated_at) - min(created_at)) FROM orders WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        confirmed = reader.GetInt64(0);
        var pending = reader.GetInt64(1);
        spanSeconds = reader.IsDBNull(2) ? double.NaN : (double)reader.GetDecimal(2);
        if (pending == 0)
        {
            break;
        }

        await Task.Delay(250);
    }

    var result = new DrainResult(batchSize, Orders, confirmed, placed.TotalSeconds, spanSeconds, confirmed / spanSeconds, ProcStat.PeakRssMiB(worker));
    Log($"drain batchSize {batchSize}: {confirmed}/{Orders} confirmed, {result.PerSecond:F1} orders/s (first accepted to last confirmed {spanSeconds:F1} s)");
    return result;
}

static async Task<int> PostmasterPidAsync(string connectionString)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
    var backend = (int)(await command.ExecuteScalarAsync())!;
    return ProcStat.ParentPid(backend);
}

static Process StartProcess(string file, string[] arguments, IReadOnlyDictionary<string, string>? environment)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    foreach (var (key, value) in environment ?? new Dictionary<string, string>())
    {
        start.Environment[key] = value;
    }

    var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task StopProcessAsync(Process process)
{
    if (process.HasExited)
    {
        return;
    }

    // SIGTERM first (the host stops its worker), then the whole tree.
    using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
    {
        await term.WaitForExitAsync();
    }

    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
    try
    {
        await process.WaitForExitAsync(timeout.Token);
    }
    catch (OperationCanceledException)
    {
        process.Kill(entireProcessTree: true);
    }
}

static async Task<bool> WaitForAsync(Uri url, TimeSpan within)
{
    using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    var deadline = DateTime.UtcNow + within;
    while (DateTime.UtcNow < deadline)
    {
        try
        {
            using var response = await client.GetAsync(url);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }
        }
        catch (HttpRequestException)
        {
        }
        catch (TaskCanceledException)
        {
        }

        await Task.Delay(10);
    }

    return false;
}

static void CopyDirectory(string from, string to)
{
    foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
    {
        Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
    }

    Directory.CreateDirectory(to);
    foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
    {
        File.Copy(file, file.Replace(from, to, StringComparison.Ordinal), overwrite: true);
    }
}

static string Machine()
{
    var cpu = File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";
    var memory = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim() : "?";
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
    return $"{Environment.ProcessorCount} cores ({cpu}), {memory} RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
           $".NET {Environment.Version}; simulator at nice {SimulatorCommand.Nice}; load average at the end: {load}";
}

static void Log(string message) => Console.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {message}");

static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;

static int EnvInt(string name, int fallback) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
        ? int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : throw new ArgumentException($"{name}: '{value}' is not a whole number")
        : fallback;
