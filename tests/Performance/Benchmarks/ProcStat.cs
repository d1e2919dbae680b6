using System.Globalization;

namespace Storefront.Benchmarks;

/// <summary>CPU and memory of processes from /proc (Linux only; values are 0 where /proc is not readable).</summary>
public static class ProcStat
{
    /// <summary>USER_HZ: 100 on every Linux architecture .NET runs on.</summary>
    public const double TicksPerSecond = 100;

    /// <summary>utime + stime of one process (all its threads), in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            return OwnTicks(File.ReadAllText($"/proc/{pid}/stat")) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Sum over a process, its direct children and the children it has reaped (PostgreSQL: the postmaster, its backends
    /// and the backends of connections already closed), so that the sum never goes down when a child exits.
    /// </summary>
    public static double TreeCpuSeconds(int rootPid)
    {
        double total;
        try
        {
            var stat = File.ReadAllText($"/proc/{rootPid}/stat");
            total = (OwnTicks(stat) + ChildTicks(stat)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var fields = Fields(File.ReadAllText($"{dir}/stat"));
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == rootPid)
                {
                    total += (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
                }
            }
            catch (IOException)
            {
                // the process ended meanwhile
            }
        }

        return total;
    }

    public static int ParentPid(int pid) => int.Parse(Fields(File.ReadAllText($"/proc/{pid}/stat"))[1], CultureInfo.InvariantCulture);

    /// <summary>utime + stime in ticks, from the text of /proc/pid/stat.</summary>
    public static double OwnTicks(string stat)
    {
        var fields = Fields(stat);
        return double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>cutime + cstime (children waited for) in ticks.</summary>
    public static double ChildTicks(string stat)
    {
        var fields = Fields(stat);
        return double.Parse(fields[13], CultureInfo.InvariantCulture) + double.Parse(fields[14], CultureInfo.InvariantCulture);
    }

    /// <summary>VmHWM (peak resident set) in MiB, or NaN.</summary>
    public static double PeakRssMiB(int pid) => StatusMiB(pid, "VmHWM:");

    /// <summary>VmRSS (current resident set) in MiB, or NaN.</summary>
    public static double RssMiB(int pid) => StatusMiB(pid, "VmRSS:");

    private static double StatusMiB(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }

    /// <summary>Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+), so each scenario has its own peak.</summary>
    public static bool ResetPeakRss(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Fields after "pid (comm)": index 0 is the state (field 3 of proc(5)), 1 ppid, 11 utime, 12 stime, 13 cutime, 14 cstime.</summary>
    private static string[] Fields(string stat) =>
        stat[(stat.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
