using System.Diagnostics;

namespace Storefront.DevStack;

/// <summary>Short-lived helper commands (initdb, chown, useradd, ...), each with a bound.</summary>
internal static class Command
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken, TimeSpan? within = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The OS user PostgreSQL runs as may not reach our working folder.
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {file}");
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(within ?? TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        return (process.ExitCode, (await output) + (await error));
    }

    /// <summary>Runs it and throws with its output when it fails.</summary>
    public static async Task<string> RunCheckedAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken, TimeSpan? within = null)
    {
        var list = arguments.ToList();
        var (exitCode, output) = await RunAsync(file, list, cancellationToken, within);
        return exitCode == 0
            ? output
            : throw new InvalidOperationException($"{file} {string.Join(' ', list)} exited with {exitCode}: {output.Trim()}");
    }
}
