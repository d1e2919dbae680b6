using System.Collections;
using System.Text.Json;

namespace Storefront.FunctionsHost;

/// <summary>
/// The app settings the worker sees: local.settings.json Values, then the process environment
/// (already-set variables win, as with Core Tools), then settings passed in code.
/// </summary>
public sealed class AppSettings
{
    public const string MasterKeyName = "FUNCTIONS_HOST_MASTER_KEY";
    public const string FunctionKeyName = "FUNCTIONS_HOST_FUNCTION_KEY";

    /// <summary>Documented defaults for local use only; Azure issues and stores real keys.</summary>
    public const string DefaultMasterKey = "local-master-key";
    public const string DefaultFunctionKey = "local-function-key";

    private readonly Dictionary<string, string> _values;

    private AppSettings(Dictionary<string, string> values) => _values = values;

    /// <summary>The settings the app itself defined (file and code), passed to the worker's environment.</summary>
    public IReadOnlyDictionary<string, string> AppValues { get; private init; } = new Dictionary<string, string>();

    public static async Task<AppSettings> LoadAsync(FunctionsHostOptions options, CancellationToken cancellationToken)
    {
        var appValues = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var file = Path.Combine(options.AppDirectory, "local.settings.json");
        if (options.UseLocalSettingsFile && File.Exists(file))
        {
            await using var stream = File.OpenRead(file);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (document.RootElement.TryGetProperty("Values", out var values))
            {
                foreach (var property in values.EnumerateObject())
                {
                    var environmentValue = Environment.GetEnvironmentVariable(property.Name);
                    appValues[property.Name] = environmentValue ?? property.Value.ToString();
                }
            }
        }

        foreach (var (key, value) in options.Settings)
        {
            appValues[key] = value;
        }

        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            all[(string)entry.Key] = entry.Value?.ToString() ?? string.Empty;
        }

        foreach (var (key, value) in appValues)
        {
            all[key] = value;
        }

        return new AppSettings(all) { AppValues = appValues };
    }

    public string? this[string name] => _values.TryGetValue(name, out var value) ? value : null;

    public string MasterKey => this[MasterKeyName] is { Length: > 0 } key ? key : DefaultMasterKey;

    public string FunctionKey => this[FunctionKeyName] is { Length: > 0 } key ? key : DefaultFunctionKey;

    /// <summary>
    /// Resolves binding expressions of the form <c>%SettingName%</c>, as the real host does through its
    /// configuration, where a setting named <c>A__B</c> is the key <c>A:B</c>.
    /// </summary>
    public string Resolve(string value)
    {
        if (value.Length > 2 && value[0] == '%' && value[^1] == '%')
        {
            var name = value[1..^1];
            return this[name] ?? this[name.Replace(":", "__", StringComparison.Ordinal)]
                ?? throw new InvalidOperationException($"App setting '{name}' is referenced by a binding but not set.");
        }

        return value;
    }

    /// <summary>
    /// Whether <c>AzureWebJobs.{function}.Disabled</c> (or <c>AzureWebJobs_{function}_Disabled</c>, the name Linux
    /// environments allow) is "true" or "1", as the real host reads it: the trigger is not listened to, and an HTTP
    /// function answers 404 to all but the master key.
    /// </summary>
    public bool IsFunctionDisabled(string function) =>
        IsTrue(this[$"AzureWebJobs.{function}.Disabled"]) || IsTrue(this[$"AzureWebJobs_{function}_Disabled"]);

    /// <summary>A storage connection by binding name: the setting itself or ConnectionStrings:name.</summary>
    public string StorageConnectionString(string? connectionName)
    {
        var name = string.IsNullOrEmpty(connectionName) ? "AzureWebJobsStorage" : connectionName;
        return this[name] ?? this[$"ConnectionStrings__{name}"] ?? this[$"ConnectionStrings:{name}"]
            ?? throw new InvalidOperationException($"Storage connection '{name}' is not set.");
    }

    private static bool IsTrue(string? value) => value == "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
}
