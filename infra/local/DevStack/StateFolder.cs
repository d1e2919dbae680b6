namespace Storefront.DevStack;

internal static class StateFolder
{
    private const UnixFileMode Traversable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Creates the folder; the levels it creates are 0755 whatever the umask, so that PostgreSQL's OS user can reach its data folder when we run as root.</summary>
    public static void Ensure(string path)
    {
        var missing = new Stack<string>();
        for (var dir = Path.GetFullPath(path); !Directory.Exists(dir); dir = Path.GetDirectoryName(dir)!)
        {
            missing.Push(dir);
        }

        while (missing.TryPop(out var dir))
        {
            Directory.CreateDirectory(dir);
            SetMode(dir, Traversable);
        }
    }

    /// <summary>The stack runs on Linux only (setpriv, /proc); the check satisfies the platform analyzer.</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Moves an old log aside, so each start begins a fresh file and the previous one is kept.</summary>
    public static void RotateLog(string file)
    {
        if (new FileInfo(file) is { Exists: true, Length: > 0 })
        {
            File.Move(file, file + ".1", overwrite: true);
        }
    }

    public static async Task<string> TailAsync(string file, int lines, CancellationToken cancellationToken) =>
        File.Exists(file) ? string.Join('\n', (await File.ReadAllLinesAsync(file, cancellationToken)).TakeLast(lines)) : string.Empty;
}
