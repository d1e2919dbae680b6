using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Storefront.Benchmarks;

/// <summary>The FastAPI variant (fastapi_app.py): uvicorn with two worker processes, uvloop and httptools, as the seed ran it.</summary>
public static class FastApi
{
    public const int Workers = 2;

    public static bool Available(string python)
    {
        try
        {
            using var check = Process.Start(new ProcessStartInfo(python, ["-c", "import fastapi, uvicorn, asyncpg, aiohttp, uvloop, httptools"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            });
            if (check is null)
            {
                return false;
            }

            check.WaitForExit();
            return check.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static Process Start(string python, int port, string postgres, Uri services)
    {
        var connection = new NpgsqlConnectionStringBuilder(postgres);
        var dsn = $"postgresql://{Uri.EscapeDataString(connection.Username!)}:{Uri.EscapeDataString(connection.Password ?? string.Empty)}@{connection.Host}:{connection.Port}/{connection.Database}";
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[]
                 {
                     "-m", "uvicorn", "fastapi_app:app", "--app-dir", AppContext.BaseDirectory, "--workers", Workers.ToString(CultureInfo.InvariantCulture),
                     "--loop", "uvloop", "--http", "httptools", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture),
                     "--no-access-log", "--log-level", "warning",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["STOREFRONT_PG_DSN"] = dsn;
        start.Environment["STOREFRONT_SERVICES_URL"] = services.ToString().TrimEnd('/');
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start uvicorn");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
