using System.Net.Mail;
using System.Text.RegularExpressions;
using Storefront.Api.Infrastructure;

namespace Storefront.Api.Orders;

/// <summary>Checks an order request field by field; every problem is reported, keyed by the field's JSON path.</summary>
public static partial class OrderValidator
{
    public const int MaxLines = 50;
    public const int MaxQuantity = 100;

    // ISO 3166-1 alpha-2.
    private static readonly HashSet<string> Countries = new(
        ("AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
         "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT " +
         "JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL " +
         "NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM " +
         "TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW").Split(' '),
        StringComparer.Ordinal);

    /// <summary>Idempotency keys and customer ids share one format: 1 to 64 of [A-Za-z0-9_-].</summary>
    public static bool IsIdentifier(string? value) => value is not null && IdentifierPattern().IsMatch(value);

    public static (ValidOrder? Order, Dictionary<string, string[]> Errors) Validate(PlaceOrderRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var customerId = request.CustomerId?.Trim();
        if (!IsIdentifier(customerId))
        {
            errors["customerId"] = ["customerId is 1 to 64 letters, digits, '-' or '_'."];
        }

        var email = request.Email?.Trim();
        if (email is null || email.Length > 254 || !MailAddress.TryCreate(email, out var address) || address.Address != email || !email.Contains('.', StringComparison.Ordinal))
        {
            errors["email"] = ["email must be an e-mail address."];
        }

        if (!Formats.IsCurrencyCode(request.Currency))
        {
            errors["currency"] = ["currency is a three-letter ISO 4217 code."];
        }

        var lines = new List<ValidLine>();
        if (request.Lines is null || request.Lines.Count is < 1 or > MaxLines)
        {
            errors["lines"] = [$"lines holds 1 to {MaxLines} lines."];
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < request.Lines.Count; i++)
            {
                var line = request.Lines[i];
                if (line is null)
                {
                    errors[$"lines[{i}]"] = ["A line is an object with sku and quantity."];
                    continue;
                }

                if (!Formats.IsSku(line.Sku))
                {
                    errors[$"lines[{i}].sku"] = ["A sku is 1 to 64 letters, digits or hyphens."];
                }
                else if (!seen.Add(line.Sku!))
                {
                    errors[$"lines[{i}].sku"] = ["Each sku may appear in one line only."];
                }

                if (line.Quantity is not (>= 1 and <= MaxQuantity))
                {
                    errors[$"lines[{i}].quantity"] = [$"quantity is a whole number from 1 to {MaxQuantity}."];
                }

                lines.Add(new ValidLine(line.Sku ?? string.Empty, line.Quantity ?? 0));
            }
        }

        var country = request.ShipTo?.Country?.Trim().ToUpperInvariant();
        if (country is null || !Countries.Contains(country))
        {
            errors["shipTo.country"] = ["country is an ISO 3166-1 alpha-2 code."];
        }

        var postcode = request.ShipTo?.Postcode?.Trim();
        if (postcode is null || !PostcodePattern().IsMatch(postcode))
        {
            errors["shipTo.postcode"] = ["postcode is 1 to 16 letters, digits, spaces or hyphens."];
        }

        return errors.Count > 0
            ? (null, errors)
            : (new ValidOrder(customerId!, email!, request.Currency!.ToUpperInvariant(), lines, country!, postcode!), errors);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$", RegexOptions.CultureInvariant)]
    private static partial Regex PostcodePattern();
}
