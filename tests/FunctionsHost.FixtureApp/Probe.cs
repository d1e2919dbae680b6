namespace Storefront.FunctionsHost.FixtureApp;

/// <summary>
/// Records what the functions saw as files in the folder named by FIXTURE_PROBE_DIR, so tests can
/// observe side effects of queue and timer invocations from outside the worker process; and lets a
/// function wait for a test's signal there.
/// </summary>
internal static class Probe
{
    private static string Folder => Environment.GetEnvironmentVariable("FIXTURE_PROBE_DIR")
        ?? throw new InvalidOperationException("FIXTURE_PROBE_DIR is not set.");

    public static async Task RecordAsync(string name, string content, CancellationToken cancellationToken)
    {
        var folder = Folder;
        var safeName = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
        var file = $"{safeName}.{Guid.NewGuid():N}";
        // Written under a hidden name, then renamed: a test polling the folder never reads a file whose content is not there yet.
        var hidden = Path.Combine(folder, "." + file);
        await File.WriteAllTextAsync(hidden, content, cancellationToken);
        File.Move(hidden, Path.Combine(folder, file));
    }

    /// <summary>Waits until a test has put a file of that name in the probe folder.</summary>
    public static async Task WaitForAsync(string name, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Folder, name);
        while (!File.Exists(file))
        {
            await Task.Delay(50, cancellationToken);
        }
    }
}
