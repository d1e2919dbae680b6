using System.Reflection;

namespace Storefront.DevStack;

/// <summary>Where the repository's build outputs and tools are, as this library was built.</summary>
public static class RepoPaths
{
    private static readonly Dictionary<string, string> Metadata = typeof(RepoPaths).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .ToDictionary(a => a.Key, a => a.Value!, StringComparer.Ordinal);

    public static string Root { get; } = Metadata["RepoRoot"];

    /// <summary>The build configuration this library was built in; the apps it runs are taken from the same one.</summary>
    public static string Configuration { get; } = Metadata["Configuration"];

    public static string LocalInfra => Path.Combine(Root, "infra", "local");

    public static string AzuriteBin => Path.Combine(LocalInfra, "node_modules", ".bin", "azurite");

    public static string ApiProject => Path.Combine(Root, "functions", "Storefront.Api");

    public static string ApiOutput => Output(ApiProject);

    public static string SimulatorDll => Path.Combine(Output(Path.Combine(LocalInfra, "ServiceSimulator")), "ServiceSimulator.dll");

    public static string HostCliDll => Path.Combine(Output(Path.Combine(LocalInfra, "FunctionsHost.Cli")), "FunctionsHost.Cli.dll");

    /// <summary>The test fixtures' state root (git-ignored), one subfolder per fixture.</summary>
    public static string TestState => Path.Combine(Root, ".local", "test");

    private static string Output(string projectDirectory) => Path.Combine(projectDirectory, "bin", Configuration, "net10.0");
}
