using System.Runtime.InteropServices;

namespace Storefront.DevStack;

/// <summary>POSIX signals by number (Linux), sent with kill(2).</summary>
public static partial class Signals
{
    public const int Interrupt = 2;
    public const int Kill = 9;
    public const int Terminate = 15;

    /// <summary>Sends a signal to a process, or with a negative id to a process group; false when there is none.</summary>
    public static bool Send(int pid, int signal) => SendSignal(pid, signal) == 0;

    /// <summary>The name setpriv's --pdeathsig takes.</summary>
    internal static string Name(int signal) => signal switch
    {
        Interrupt => "INT",
        Kill => "KILL",
        Terminate => "TERM",
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "no name for this signal"),
    };

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
