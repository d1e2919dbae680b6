using System.Globalization;

namespace Storefront.DevStack;

/// <summary>What /proc tells about a process (Linux).</summary>
internal static class ProcFs
{
    /// <summary>The process's start time in clock ticks since boot, or null when no such process lives: with the pid it names one process, even after pid reuse.</summary>
    public static long? StartTime(int pid)
    {
        try
        {
            return ParseStartTime(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so fields are counted from its last ')'.</summary>
    internal static long? ParseStartTime(string stat)
    {
        var end = stat.LastIndexOf(')');
        if (end < 0)
        {
            return null;
        }

        var fields = stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field 22 is fields[19]; a zombie has exited and counts as gone.
        return fields.Length > 19 && fields[0] != "Z" && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>Processes whose working folder is the given one (PostgreSQL's processes work in their data folder); only those this user may inspect.</summary>
    public static IEnumerable<int> WorkingIn(string directory)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Cwd(entry) == directory)
            {
                yield return pid;
            }
        }
    }

    private static string? Cwd(string procEntry)
    {
        try
        {
            return new DirectoryInfo(Path.Combine(procEntry, "cwd")).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
