namespace Storefront.FunctionsHost.FixtureApp;

/// <summary>
/// Records what the functions saw as files in the folder named by FIXTURE_PROBE_DIR, so tests can
/// observe side effects of queue and timer invocations from outside the worker process.
/// </summary>
internal static class Probe
{
    public static async Task RecordAsync(string name, string content, CancellationToken cancellationToken)
    {
        var folder = Environment.GetEnvironmentVariable("FIXTURE_PROBE_DIR")
            ?? throw new InvalidOperationException("FIXTURE_PROBE_DIR is not set.");
        var safeName = string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
        var file = $"{safeName}.{Guid.NewGuid():N}";
        // Written under a hidden name, then renamed: a test polling the folder never reads a file whose content is not there yet.
        var hidden = Path.Combine(folder, "." + file);
        await File.WriteAllTextAsync(hidden, content, cancellationToken);
        File.Move(hidden, Path.Combine(folder, file));
    }
}
