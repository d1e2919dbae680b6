namespace Storefront.ServiceSimulator;

/// <summary>Current settings per service: readers take an immutable snapshot (one volatile read), admin writes under a lock.</summary>
internal sealed class ServiceSettingsStore
{
    private readonly IReadOnlyList<ServiceSettings> _defaults;
    private readonly ServiceSettings[] _current;
    private readonly Lock _gate = new();

    public ServiceSettingsStore(IReadOnlyList<ServiceSettings> defaults)
    {
        _defaults = defaults;
        _current = [.. defaults];
    }

    public ServiceSettings Get(int service) => Volatile.Read(ref _current[service]);

    /// <summary>Applies a partial update when the result is valid; otherwise returns the errors and changes nothing.</summary>
    public ServiceSettings Update(int service, ServiceSettingsUpdate update, out Dictionary<string, string[]> errors)
    {
        lock (_gate)
        {
            var current = Get(service);
            var merged = current.With(update);
            errors = merged.Validate();
            if (errors.Count > 0)
            {
                return current;
            }

            Volatile.Write(ref _current[service], merged);
            return merged;
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            for (var i = 0; i < _current.Length; i++)
            {
                Volatile.Write(ref _current[i], _defaults[i]);
            }
        }
    }

    public Dictionary<string, ServiceSettings> Snapshot()
    {
        var all = new Dictionary<string, ServiceSettings>(StringComparer.Ordinal);
        for (var i = 0; i < _current.Length; i++)
        {
            all[SimulatedServices.All[i]] = Get(i);
        }

        return all;
    }
}
