using System.Globalization;

namespace Storefront.ServiceSimulator;

/// <summary>Start-up configuration, section <c>Simulator</c> (command line <c>--Simulator:Key=value</c>, env <c>Simulator__Key</c>).</summary>
internal sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    private static readonly string[] SettingKeys =
        [nameof(ServiceSettings.LatencyMs), nameof(ServiceSettings.JitterMs), nameof(ServiceSettings.ErrorRate),
         nameof(ServiceSettings.ErrorStatus), nameof(ServiceSettings.HangRate)];

    /// <summary>Known skus are SKU-00001..SKU-{KnownProducts:D5}.</summary>
    public int KnownProducts { get; private init; } = 10_000;

    /// <summary>Ring buffer size of the call log (oldest entries are overwritten).</summary>
    public int CallLogCapacity { get; private init; } = 200_000;

    /// <summary>Keys per idempotency store (payments and shipping each); new keys beyond it get 507.</summary>
    public int IdempotencyCapacity { get; private init; } = 1_000_000;

    /// <summary>Ring buffer size of accepted notifications.</summary>
    public int MessageLogCapacity { get; private init; } = 10_000;

    /// <summary>How long a simulated hang lasts at most before it answers 504.</summary>
    public int MaxHangSeconds { get; private init; } = 300;

    /// <summary>Start-up settings per service, in <see cref="SimulatedServices.All"/> order; <c>POST /admin/reset</c> returns to these.</summary>
    public IReadOnlyList<ServiceSettings> Services { get; private init; } = SimulatedServices.All.Select(_ => ServiceSettings.Default).ToArray();

    public static SimulatorOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        var services = SimulatedServices.All.Select(_ => ServiceSettings.Default).ToArray();
        foreach (var child in section.GetSection("Services").GetChildren())
        {
            var index = SimulatedServices.IndexOf(child.Key);
            if (index < 0)
            {
                throw Invalid($"Services:{child.Key}", $"unknown service; expected one of {string.Join(", ", SimulatedServices.All)}");
            }

            var unknown = child.GetChildren().Select(c => c.Key).FirstOrDefault(k => !SettingKeys.Contains(k, StringComparer.OrdinalIgnoreCase));
            if (unknown is not null)
            {
                throw Invalid($"Services:{child.Key}:{unknown}", $"unknown setting; expected one of {string.Join(", ", SettingKeys)}");
            }

            var settings = ServiceSettings.Default.With(new ServiceSettingsUpdate(
                Int(child, nameof(ServiceSettings.LatencyMs)),
                Int(child, nameof(ServiceSettings.JitterMs)),
                Double(child, nameof(ServiceSettings.ErrorRate)),
                Int(child, nameof(ServiceSettings.ErrorStatus)),
                Double(child, nameof(ServiceSettings.HangRate))));
            var errors = settings.Validate();
            if (errors.Count > 0)
            {
                throw Invalid($"Services:{child.Key}", string.Join(" ", errors.Values.SelectMany(e => e)));
            }

            services[index] = settings;
        }

        return new SimulatorOptions
        {
            KnownProducts = Bounded(section, nameof(KnownProducts), 10_000, 1, 99_999_999),
            CallLogCapacity = Bounded(section, nameof(CallLogCapacity), 200_000, 1, 10_000_000),
            IdempotencyCapacity = Bounded(section, nameof(IdempotencyCapacity), 1_000_000, 1, 10_000_000),
            MessageLogCapacity = Bounded(section, nameof(MessageLogCapacity), 10_000, 1, 1_000_000),
            MaxHangSeconds = Bounded(section, nameof(MaxHangSeconds), 300, 1, 300),
            Services = services,
        };
    }

    private static int Bounded(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        var value = Int(section, key) ?? fallback;
        return value >= min && value <= max ? value : throw Invalid(key, $"must be {min}..{max}");
    }

    private static int? Int(IConfigurationSection section, string key) => section[key] is { } text
        ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : throw Invalid(key, $"'{text}' is not an integer")
        : null;

    private static double? Double(IConfigurationSection section, string key) => section[key] is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw Invalid(key, $"'{text}' is not a number")
        : null;

    private static InvalidOperationException Invalid(string key, string problem) =>
        new($"Configuration {SectionName}:{key}: {problem}.");
}
