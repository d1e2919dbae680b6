using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Storefront.Infrastructure.Tests;

/// <summary>Runs the Bicep CLI restored from the Azure.Bicep.CommandLine.linux-x64 NuGet package.</summary>
public static class Bicep
{
    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string InfraDirectory { get; } = Path.Combine(RepositoryRoot, "infra");

    public static string AppDirectory { get; } = Metadata("AppDirectory");

    private static readonly Lazy<JsonObject> MainTemplate = new(() => Build(Path.Combine(InfraDirectory, "main.bicep")));

    private static readonly Lazy<(JsonObject Parameters, JsonObject Template)> MainParameters = new(() =>
    {
        var result = Run("build-params", Path.Combine(InfraDirectory, "main.bicepparam"), "--stdout");
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, $"bicep build-params failed: {result.Error}{result.Output}");
        var output = JsonNode.Parse(result.Output)!.AsObject();
        return (JsonNode.Parse(output["parametersJson"]!.GetValue<string>())!.AsObject(),
                JsonNode.Parse(output["templateJson"]!.GetValue<string>())!.AsObject());
    });

    /// <summary>main.bicep compiled to an ARM template (modules nested as Microsoft.Resources/deployments).</summary>
    public static JsonObject Main => MainTemplate.Value;

    /// <summary>main.bicepparam compiled to a deployment parameters file.</summary>
    public static JsonObject DevParameters => MainParameters.Value.Parameters;

    public static string Executable
    {
        get
        {
            var path = Metadata("BicepPath");
            Assert.True(File.Exists(path), $"The Bicep CLI is missing at {path}; restore tests/Infrastructure.Tests.");
            return path;
        }
    }

    public static JsonObject Build(string file)
    {
        var result = Run("build", file, "--stdout");
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, $"bicep build {file} failed: {result.Error}");
        return JsonNode.Parse(result.Output)!.AsObject();
    }

    public static (int ExitCode, string Output, string Error) Run(params string[] arguments) => Run(new Dictionary<string, string>(), arguments);

    /// <summary>Runs the CLI with these environment variables set (read by readEnvironmentVariable in .bicepparam files).</summary>
    public static (int ExitCode, string Output, string Error) Run(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        // No telemetry, no update checks: the tests run offline.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"bicep {string.Join(' ', arguments)} did not finish in 2 minutes");
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result.Trim());
    }

    /// <summary>The template and every module template nested in it, with the deployment that holds each.</summary>
    public static IEnumerable<(string Module, JsonObject Template)> Templates(JsonObject template, string name = "main")
    {
        yield return (name, template);
        foreach (var resource in Resources(template).Where(r => Type(r) == "Microsoft.Resources/deployments"))
        {
            if (resource["properties"]?["template"] is JsonObject nested)
            {
                foreach (var inner in Templates(nested, resource["name"]!.GetValue<string>()))
                {
                    yield return inner;
                }
            }
        }
    }

    public static IEnumerable<JsonObject> Resources(JsonObject template) =>
        template["resources"] switch
        {
            JsonArray array => array.OfType<JsonObject>(),
            JsonObject symbolic => symbolic.Select(p => p.Value).OfType<JsonObject>(),
            _ => [],
        };

    /// <summary>Resources of this type in the template and all its modules.</summary>
    public static List<(string Module, JsonObject Template, JsonObject Resource)> AllResources(string type) =>
        [.. Templates(Main).SelectMany(t => Resources(t.Template).Select(r => (t.Module, t.Template, r))).Where(x => Type(x.r) == type)];

    public static string Type(JsonObject resource) => resource["type"]?.GetValue<string>() ?? "";

    /// <summary>The compiled template of a module of main.bicep.</summary>
    public static JsonObject ModuleTemplate(string name) => Module(name)["properties"]!["template"]!.AsObject();

    /// <summary>The nested deployment of a module of main.bicep.</summary>
    public static JsonObject Module(string name) =>
        Resources(Main).Single(r => Type(r) == "Microsoft.Resources/deployments" && r["name"]?.GetValue<string>() == name);

    private static string Metadata(string key) =>
        typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is missing.");
}
