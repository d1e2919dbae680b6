using System.Globalization;

namespace Storefront.DevStack;

/// <summary>
/// How the service simulator is started as its own process. It stands in for services on other machines: sharing the
/// machine, an app loaded to its limit takes CPU the simulator needs and the simulated services answer later than
/// remote ones would, so where a priority may be raised (root) the simulator runs ahead of everything else.
/// </summary>
public static class SimulatorCommand
{
    /// <summary>The simulator's nice value: -10 for a privileged process, otherwise 0 (as everything else).</summary>
    public static int Nice { get; } = Environment.IsPrivilegedProcess ? -10 : 0;

    /// <summary>The executable and its arguments that run <paramref name="simulatorDll"/> at <see cref="Nice"/>.</summary>
    public static (string File, string[] Arguments) For(string simulatorDll, params string[] arguments) =>
        Nice == 0
            ? ("dotnet", [simulatorDll, .. arguments])
            : ("nice", ["-n", Nice.ToString(CultureInfo.InvariantCulture), "dotnet", simulatorDll, .. arguments]);
}
