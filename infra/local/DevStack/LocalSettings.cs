using System.Text.Json;
using System.Text.Json.Nodes;

namespace Storefront.DevStack;

/// <summary>functions/Storefront.Api/local.settings.json, made from local.settings.sample.json (git-ignored: it may hold local secrets).</summary>
public static class LocalSettings
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Creates the file from the sample when missing; otherwise adds the Values the sample gained since, keeping every value already there.</summary>
    /// <returns>null when the file was created, else the names of the Values added.</returns>
    public static async Task<IReadOnlyList<string>?> EnsureAsync(string samplePath, string localPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(localPath))
        {
            File.Copy(samplePath, localPath);
            return null;
        }

        var sample = Read(await File.ReadAllTextAsync(samplePath, cancellationToken), samplePath);
        var local = Read(await File.ReadAllTextAsync(localPath, cancellationToken), localPath);
        var added = AddMissing(sample, local);
        if (added.Count > 0)
        {
            await File.WriteAllTextAsync(localPath, local.ToJsonString(Indented) + "\n", cancellationToken);
        }

        return added;
    }

    /// <summary>Adds to <paramref name="local"/>'s Values those of <paramref name="sample"/> it lacks.</summary>
    public static IReadOnlyList<string> AddMissing(JsonObject sample, JsonObject local)
    {
        if (local["Values"] is not JsonObject values)
        {
            values = [];
            local["Values"] = values;
        }

        var added = new List<string>();
        foreach (var (name, value) in sample["Values"] as JsonObject ?? [])
        {
            if (!values.ContainsKey(name))
            {
                values[name] = value?.DeepClone();
                added.Add(name);
            }
        }

        return added;
    }

    private static JsonObject Read(string json, string path) =>
        JsonNode.Parse(json) as JsonObject ?? throw new InvalidOperationException($"{path} is not a JSON object");
}
