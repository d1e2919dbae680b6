using System.Globalization;

namespace Storefront.ServiceSimulator;

/// <summary>The deterministic answers of the simulated services (documented in README.md).</summary>
public static class Rules
{
    /// <summary>Where stock sits; a sku's warehouse is fixed.</summary>
    public static IReadOnlyList<string> Warehouses { get; } = ["AMS-1", "RTM-1", "FRA-1", "DUB-1"];

    /// <summary>The FX rates for base USD (fixed).</summary>
    public static IReadOnlyDictionary<string, decimal> UsdRates { get; } = new Dictionary<string, decimal>(StringComparer.Ordinal)
    {
        ["EUR"] = 0.92m,
        ["GBP"] = 0.79m,
        ["JPY"] = 151.2m,
        ["CHF"] = 0.88m,
        ["CAD"] = 1.36m,
        ["AUD"] = 1.52m,
        ["SEK"] = 10.6m,
        ["NOK"] = 10.8m,
        ["DKK"] = 6.86m,
        ["PLN"] = 3.98m,
    };

    /// <summary>Customers whose id starts with this (ordinal, case-sensitive) are declined.</summary>
    public const string DeclinePrefix = "decline";

    /// <summary>Skus whose number is a multiple of this have low stock (<see cref="LowStock"/>) unless out of stock.</summary>
    public const int LowStockEvery = 89;

    /// <summary>Skus whose number is a multiple of this, and SKU-00013, are out of stock.</summary>
    public const int OutOfStockEvery = 97;

    public const int LowStock = 2;

    /// <summary>The canonical sku of a product number: SKU- and at least five digits.</summary>
    public static string Sku(int number) => "SKU-" + number.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>The product number of a canonical sku (exact spelling, 1..<paramref name="knownProducts"/>), else null.</summary>
    public static int? ProductNumber(string? sku, int knownProducts)
    {
        if (sku is null || !sku.StartsWith("SKU-", StringComparison.Ordinal) || sku.Length < 9)
        {
            return null;
        }

        var digits = sku.AsSpan(4);
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return null;
            }
        }

        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            && number >= 1 && number <= knownProducts && string.Equals(Sku(number), sku, StringComparison.Ordinal)
                ? number
                : null;
    }

    /// <summary>0 for SKU-00013 and every multiple of 97; 2 for multiples of 89; else 5..500 from a stable hash.</summary>
    public static int Available(int number) => number == 13 || number % OutOfStockEvery == 0
        ? 0
        : number % LowStockEvery == 0
            ? LowStock
            : 5 + (int)(Hash(number, 1) % 496);

    public static string Warehouse(int number) => Warehouses[(int)(Hash(number, 2) % (ulong)Warehouses.Count)];

    /// <summary>1.0..5.0 in steps of 0.1.</summary>
    public static decimal ReviewAverage(int number) => (10 + (int)(Hash(number, 3) % 41)) / 10m;

    /// <summary>1..1000.</summary>
    public static int ReviewCount(int number) => 1 + (int)(Hash(number, 4) % 1000);

    public static PaymentResponse Payment(string idempotencyKey, PaymentRequest request) =>
        request.CustomerId is { } customer && customer.StartsWith(DeclinePrefix, StringComparison.Ordinal)
            ? new PaymentResponse(PaymentId(idempotencyKey), "declined", "insufficient funds")
            : new PaymentResponse(PaymentId(idempotencyKey), "authorized");

    public static string PaymentId(string idempotencyKey) => "pay_" + KeyHash(idempotencyKey);

    public static string ShipmentId(string idempotencyKey) => "shp_" + KeyHash(idempotencyKey);

    /// <summary>Carrier and days by destination: NL 1 / BE, LU 2 PostNL; DE 2 / AT, CH 3 DHL; US, CA 5 UPS; elsewhere 4 DHL.</summary>
    public static (string Carrier, int EtaDays) Carrier(string country) => country.ToUpperInvariant() switch
    {
        "NL" => ("PostNL", 1),
        "BE" or "LU" => ("PostNL", 2),
        "DE" => ("DHL", 2),
        "AT" or "CH" => ("DHL", 3),
        "US" or "CA" => ("UPS", 5),
        _ => ("DHL", 4),
    };

    /// <summary>SplitMix64 of the product number and a per-purpose salt: stable across processes and platforms.</summary>
    private static ulong Hash(int number, uint salt)
    {
        var x = ((ulong)salt << 32) | (uint)number;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>FNV-1a 64 of the key's UTF-16 code units, as 16 lowercase hex digits.</summary>
    private static string KeyHash(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}
