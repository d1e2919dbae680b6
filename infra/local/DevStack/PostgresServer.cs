using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Storefront.DevStack;

public sealed record PostgresOptions
{
    /// <summary>Holds the data folder (postgres/) and the pid file; see <see cref="PostgresServer.DataDirectoryFor"/>.</summary>
    public required string StateDirectory { get; init; }

    public required int Port { get; init; }

    public required string LogFile { get; init; }

    /// <summary>Throwaway test data: no fsync (a clean stop still writes everything out).</summary>
    public bool Throwaway { get; init; }

    /// <summary>As root: the OS user that owns and runs the cluster (created when missing).</summary>
    public string OsUser { get; init; } = Environment.GetEnvironmentVariable("STOREFRONT_PG_OS_USER") is { Length: > 0 } user ? user : "postgres";

    /// <summary>What to tell when the port is taken.</summary>
    public string PortHint { get; init; } = "choose another port";
}

/// <summary>
/// A throwaway PostgreSQL cluster: initdb on first use, the postgres server as a foreground child (as an unprivileged OS
/// user when we are root: it refuses root), listening on 127.0.0.1 with its unix socket in the data folder; role and
/// database "storefront". It can be stopped and started again on the same data.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string DatabaseName = "storefront";
    public const string UserName = "storefront";

    // A throwaway local cluster's documented password (local.settings.sample.json has it too).
    public const string Password = "storefront";

    // A unix socket path is limited to 107 bytes; "/.s.PGSQL.<port>" adds up to 17.
    private const int MaxSocketDirectoryLength = 88;
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    private readonly PostgresOptions _options;
    private readonly Action<string> _log;
    private readonly string _bin;
    private readonly string? _user;
    private readonly SupervisedServer _server;

    private PostgresServer(PostgresOptions options, Action<string> log, string bin, string? user, string dataDirectory)
    {
        _options = options;
        _log = log;
        _bin = bin;
        _user = user;
        DataDirectory = dataDirectory;
        _server = new SupervisedServer("PostgreSQL", Path.Combine(options.StateDirectory, "postgres.pid"), Signals.Interrupt, TimeSpan.FromSeconds(60), log);
    }

    public int Port => _options.Port;

    public string DataDirectory { get; }

    public string LogFile => _options.LogFile;

    public bool IsRunning => _server.IsRunning;

    /// <summary>The app's connection: the storefront role over TCP.</summary>
    public string ConnectionString => ConnectionStringFor(Port);

    public static string ConnectionStringFor(int port) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Database = DatabaseName,
            Username = UserName,
            Password = Password,
        }.ConnectionString;

    /// <summary>The superuser over the unix socket (trust): only the cluster's OS user, or root, can reach it.</summary>
    private string SuperuserConnectionString =>
        new NpgsqlConnectionStringBuilder
        {
            Host = DataDirectory,
            Port = Port,
            Database = "postgres",
            Username = "postgres",
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;

    /// <summary>
    /// STATE/postgres, unless the cluster's OS user cannot reach STATE (as root, with the repo under a root-only folder
    /// such as /root) or the path is too long for a unix socket: then /tmp/storefront-HASH/postgres.
    /// </summary>
    public static string DataDirectoryFor(string stateDirectory, bool userCanReachState)
    {
        var data = Path.Combine(Path.GetFullPath(stateDirectory), "postgres");
        if (userCanReachState && data.Length <= MaxSocketDirectoryLength)
        {
            return data;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(stateDirectory))))[..12];
        return Path.Combine(Path.GetTempPath(), $"storefront-{hash}", "postgres");
    }

    /// <summary>initdb/postgres: PATH first, then the newest /usr/lib/postgresql/VERSION/bin.</summary>
    public static string FindBinaries()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "initdb"))
            .FirstOrDefault(File.Exists);
        var bin = onPath is not null
            ? Path.GetDirectoryName(new FileInfo(onPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath)!
            : Newest(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [])
                is { } version ? Path.Combine(version, "bin") : null;
        return bin is not null && File.Exists(Path.Combine(bin, "postgres")) && File.Exists(Path.Combine(bin, "initdb"))
            ? bin
            : throw new InvalidOperationException(
                "PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql-15)");
    }

    /// <summary>The folder with the highest numeric version name (/usr/lib/postgresql/15, 16, ...).</summary>
    internal static string? Newest(IEnumerable<string> versionDirectories) =>
        versionDirectories
            .Select(dir => (dir, known: decimal.TryParse(Path.GetFileName(dir), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var version), version))
            .Where(d => d.known)
            .OrderBy(d => d.version)
            .Select(d => d.dir)
            .LastOrDefault();

    /// <summary>Finds the binaries, prepares the OS user, runs initdb on first use, starts the server and creates the role and database.</summary>
    public static async Task<PostgresServer> StartAsync(PostgresOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        var server = await PrepareAsync(options, log, cancellationToken);
        await server.StartAsync(cancellationToken);
        await server.ProvisionAsync(cancellationToken);
        return server;
    }

    /// <summary>
    /// Everything before the server runs: finds the binaries, prepares the OS user (as root), runs initdb on first use or
    /// clears what a crashed server left. Then either <see cref="StartAsync(CancellationToken)"/> runs <see cref="Spec"/>,
    /// or another supervisor does (the run command's AppHost) and calls <see cref="ProvisionAsync"/> once it accepts connections.
    /// </summary>
    public static async Task<PostgresServer> PrepareAsync(PostgresOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        var bin = FindBinaries();
        StateFolder.Ensure(options.StateDirectory);
        StateFolder.Ensure(Path.GetDirectoryName(Path.GetFullPath(options.LogFile))!);
        string? user = null;
        var data = DataDirectoryFor(options.StateDirectory, userCanReachState: true);
        if (Environment.IsPrivilegedProcess)
        {
            user = await EnsureOsUserAsync(options.OsUser, log, cancellationToken);
            data = DataDirectoryFor(options.StateDirectory, await CanReachAsync(user, options.StateDirectory, cancellationToken));
            if (File.Exists(Path.Combine(data, "PG_VERSION")))
            {
                // Reuse whoever owns an existing cluster (e.g. one a normal user made before).
                var owner = (await Command.RunCheckedAsync("stat", ["-c", "%U", data], cancellationToken)).Trim();
                user = owner is "root" or "UNKNOWN" ? user : owner;
            }
        }

        if (!data.StartsWith(Path.GetFullPath(options.StateDirectory), StringComparison.Ordinal))
        {
            log($"note: {options.StateDirectory} is not usable by the cluster's OS user '{user ?? Environment.UserName}' (a root-only folder, or a path too long for a unix socket); the cluster lives in {data}");
        }

        var server = new PostgresServer(options, log, bin, user, data);
        await server._server.ClearStaleAsync(cancellationToken);
        StateFolder.RotateLog(options.LogFile);
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            await server.ClearStalePostmasterAsync(cancellationToken);
        }
        else
        {
            await server.InitDbAsync(cancellationToken);
        }

        return server;
    }

    /// <summary>
    /// The server in the foreground on 127.0.0.1, as the cluster's OS user. Its stop signal is SIGINT, PostgreSQL's fast
    /// shutdown (SIGTERM's smart shutdown would wait for every pooled session to close).
    /// </summary>
    public ProcessSpec Spec
    {
        get
        {
            var settings = new List<string>
            {
                "listen_addresses=127.0.0.1",
                // Double quotes: the list syntax of this setting, for a path with spaces or commas.
                $"unix_socket_directories=\"{DataDirectory}\"",
                "max_connections=200",
                "synchronous_commit=off",
                "log_min_messages=warning",
                "log_connections=off",
                "log_disconnections=off",
            };
            if (_options.Throwaway)
            {
                settings.AddRange(["fsync=off", "full_page_writes=off"]);
            }

            var arguments = new List<string> { "-D", DataDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture) };
            arguments.AddRange(settings.SelectMany(setting => new[] { "-c", setting }));
            return new ProcessSpec("postgres", Path.Combine(_bin, "postgres"), arguments) { LogFile = LogFile, StopSignal = Signals.Interrupt, User = _user };
        }
    }

    /// <summary>One try: does the server accept the superuser over its unix socket (it is up and past recovery)?</summary>
    public async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(SuperuserConnectionString);
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Asks the postmaster running on this data (postmaster.pid) for a fast shutdown (SIGINT), whoever started it; for a
    /// supervisor that would send SIGTERM, a smart shutdown that waits for every pooled session. False when none runs.
    /// </summary>
    public bool RequestFastShutdown()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        try
        {
            return File.Exists(pidFile)
                && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ProcFs.CommandLine(pid).Contains("postgres", StringComparison.Ordinal)
                && Signals.Send(pid, Signals.Interrupt);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Starts the server on its data (again, after <see cref="StopAsync"/>) and waits until it accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsRunning)
        {
            return;
        }

        await Ports.EnsureFreeAsync(Port, "PostgreSQL", _options.PortHint, cancellationToken);
        _log($"starting PostgreSQL on 127.0.0.1:{Port} (data {DataDirectory}, log {LogFile})");
        await _server.StartAsync(Spec, cancellationToken);
        await WaitReadyAsync(cancellationToken);
    }

    /// <summary>Fast shutdown; the data stays.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _server.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync() => await StopAsync();

    private static async Task<string> EnsureOsUserAsync(string user, Action<string> log, CancellationToken cancellationToken)
    {
        if ((await Command.RunAsync("id", ["-u", user], cancellationToken)).ExitCode != 0)
        {
            log($"creating system user '{user}' to own the local PostgreSQL cluster");
            await Command.RunCheckedAsync(
                "useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", user], cancellationToken);
        }

        return user;
    }

    /// <summary>Can the user traverse the folder (or, while it does not exist yet, its nearest existing ancestor)?</summary>
    private static async Task<bool> CanReachAsync(string user, string directory, CancellationToken cancellationToken)
    {
        var dir = Path.GetFullPath(directory);
        while (!Directory.Exists(dir))
        {
            dir = Path.GetDirectoryName(dir)!;
        }

        return (await Command.RunAsync("setpriv", [$"--reuid={user}", $"--regid={user}", "--init-groups", "--", "test", "-x", dir], cancellationToken)).ExitCode == 0;
    }

    private async Task InitDbAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(DataDirectory) && Directory.EnumerateFileSystemEntries(DataDirectory).Any())
        {
            throw new InvalidOperationException($"{DataDirectory} exists but is not a PostgreSQL cluster (no PG_VERSION); remove it");
        }

        _log($"initializing a new PostgreSQL cluster in {DataDirectory}");
        StateFolder.Ensure(Path.GetDirectoryName(DataDirectory)!);
        Directory.CreateDirectory(DataDirectory);
        StateFolder.SetMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var initdb = new List<string>
        {
            Path.Combine(_bin, "initdb"), "-D", DataDirectory, "--username=postgres", "--encoding=UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256",
        };
        if (_user is not null)
        {
            await Command.RunCheckedAsync("chown", [$"{_user}:", DataDirectory], cancellationToken);
            initdb.InsertRange(0, [$"--reuid={_user}", $"--regid={_user}", "--init-groups", "--"]);
        }

        var (exitCode, output) = _user is null
            ? await Command.RunAsync(initdb[0], initdb.Skip(1), cancellationToken)
            : await Command.RunAsync("setpriv", initdb, cancellationToken);
        await File.AppendAllTextAsync(LogFile, output, cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed ({exitCode}); see {LogFile}");
        }
    }

    /// <summary>
    /// After a crash: refuses a postmaster that still runs on this data (one we did not start), waits for orphaned
    /// backends to go, then removes postmaster.pid and the socket lock files, which could name a reused pid.
    /// </summary>
    private async Task ClearStalePostmasterAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (File.Exists(pidFile)
            && int.TryParse((await File.ReadAllLinesAsync(pidFile, cancellationToken)).FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ProcFs.StartTime(pid) is not null
            && ProcFs.CommandLine(pid).Contains("postgres", StringComparison.Ordinal)
            && ProcFs.WorkingIn(DataDirectory).Contains(pid))
        {
            throw new InvalidOperationException($"a PostgreSQL server (pid {pid}) already runs on {DataDirectory}; stop it first");
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ProcFs.WorkingIn(DataDirectory).Any())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"processes still use {DataDirectory} although no postmaster runs; stop them first");
            }

            await Task.Delay(250, cancellationToken);
        }

        if (File.Exists(pidFile))
        {
            _log($"removing the stale {pidFile}");
            File.Delete(pidFile);
        }

        foreach (var lockFile in Directory.GetFiles(DataDirectory, ".s.PGSQL.*.lock"))
        {
            File.Delete(lockFile);
        }
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartBound;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(SuperuserConnectionString);
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
            {
                if (_server.HasExited || DateTime.UtcNow > deadline)
                {
                    var tail = await StateFolder.TailAsync(LogFile, 20, cancellationToken);
                    throw new InvalidOperationException($"PostgreSQL did not start on port {Port} ({exception.Message}); see {LogFile}:\n{tail}");
                }
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Role and database "storefront", when missing (idempotent); the server must accept connections.</summary>
    public async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(SuperuserConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var role = new NpgsqlCommand(
            $"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{UserName}') THEN
                CREATE ROLE "{UserName}" LOGIN CREATEDB PASSWORD '{Password}';
              END IF;
            END
            $$
            """,
            connection))
        {
            await role.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var exists = new NpgsqlCommand($"SELECT count(*) FROM pg_catalog.pg_database WHERE datname = '{DatabaseName}'", connection);
        if ((long)(await exists.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\" OWNER \"{UserName}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
