using System.Globalization;
using System.Text;

namespace Storefront.Soak;

/// <summary>One invariant of a scenario, and what was measured for it.</summary>
internal sealed record Check(string Name, bool Passed, string Detail);

/// <summary>What became of a scenario's orders once they were final (or the drain ran out).</summary>
/// <param name="Placed">Orders the clients tried to place (one key each).</param>
/// <param name="Accepted">Keys answered 202 in the end.</param>
/// <param name="Recovery">From the scenario's reference moment (an outage's end, a kill) to the last order final.</param>
internal sealed record OrderOutcome(
    int Placed,
    int Accepted,
    IReadOnlyList<StoredOrder> Orders,
    int Lost,
    int Stuck,
    int FailedForTransientCause,
    int UnexpectedStatus,
    int KeysNotOneOrder,
    string[] FailureReasons,
    PaymentAudit Payments,
    StockAudit Stock,
    TimeSpan Recovery)
{
    public int WithStatus(string status) => Orders.Count(o => o.Status == status);
}

internal sealed record ScenarioResult(
    int Number,
    string Title,
    string Done,
    OrderOutcome? Orders,
    Stats Answers,
    TimeSpan Recovery,
    string RecoveryMeasure,
    IReadOnlyList<Check> Checks)
{
    public bool Passed => Checks.All(c => c.Passed);
}

internal sealed record OutageResults(SoakOptions Options, DateTimeOffset Started, DateTimeOffset Finished, IReadOnlyList<ScenarioResult> Scenarios)
{
    public const int ScenarioCount = 7;

    public bool Passed => Scenarios.Count == ScenarioCount && Scenarios.All(s => s.Passed);
}

/// <summary>results/outages.md and the console summary.</summary>
internal static class OutageReport
{
    public static string Markdown(OutageResults run)
    {
        var md = new StringBuilder();
        SoakReport.AppendHeading(
            md,
            "Outage scenarios",
            run.Options.Command,
            $"; the rows of issue #11's table, plus PostgreSQL down for 120 s. **{(run.Passed ? "PASSED" : "FAILED")}**: {run.Scenarios.Count(s => s.Passed)} of {OutageResults.ScenarioCount} scenarios passed every check.",
            run.Started,
            run.Finished);
        md.AppendLine("| stack | the app (Release) under the repo's local Functions host, the service simulator in-process, PostgreSQL and Azurite from `infra/local` scripts (stopped and started by them), all on this machine; one stack for all scenarios, run in order |");
        md.AppendLine("| app settings | production's: `Recovery:*` defaults (retry budget 15 min, backoff 1 s doubling to 30 s, lease 15 s, stranded after 2 min), sweep `*/30 * * * * *`, the services' production timeouts and breakers; no test overrides |");
        md.AppendLine("| services | inventory 25+0..30 ms, reviews 35+0..40, fx 60+0..40, payments 250+0..150, shipping 150+0..100, notifications 40+0..30, except where a scenario says otherwise; a hanging call answers 504 after 10 s |");
        md.AppendLine("| clients | a 5xx or no answer (10 s per request) is retried with the same `Idempotency-Key` every 500 ms, at most 300 times; 1 customer in 10 has a card that payments declines |");
        md.AppendLine("| truth | the `orders` table (status, failure reason, `updated_at`) and the simulator's `GET /admin/payments` (state, captures, voids), read after a drain of at most 5 min |");
        md.AppendLine();

        md.AppendLine("## Summary");
        md.AppendLine();
        md.AppendLine("| # | scenario | accepted | confirmed | rejected | failed (transient cause) | stuck | lost | confirmed captured once | open authorizations | rejected/failed captured | voids | recovery | answers to clients | result |");
        md.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |");
        foreach (var s in run.Scenarios)
        {
            var o = s.Orders;
            var orderCells = o is null
                ? "– | – | – | – | – | – | – | – | – | –"
                : $"{o.Accepted} of {o.Placed} | {o.WithStatus("confirmed")} | {o.WithStatus("rejected")} | {o.WithStatus("failed")} ({o.FailedForTransientCause}) | {o.Stuck} | {o.Lost} | {o.Payments.ConfirmedCapturedOnce} of {o.WithStatus("confirmed")} | {o.Payments.OpenAuthorizations} | {o.Payments.CapturedButNotConfirmed} | {o.Payments.Voids}";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {s.Number} | {s.Title} | {orderCells} | {s.Recovery.TotalSeconds:F1} s {s.RecoveryMeasure} | {Answers(s.Answers)} | **{(s.Passed ? "passed" : "FAILED")}** |");
        }

        md.AppendLine();
        md.AppendLine("\"Failed (transient cause)\" counts failed orders that gave up after retrying transient failures for the whole budget; \"open authorizations\" are finished orders whose payment is still `authorized`; \"recovery\" is measured with the database's `updated_at` of the last order to become final.");
        md.AppendLine();

        foreach (var s in run.Scenarios)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"## {s.Number}. {s.Title}: {(s.Passed ? "passed" : "FAILED")}");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"What was done: {s.Done}.");
            md.AppendLine();
            md.AppendLine("| check | result | measured |");
            md.AppendLine("| --- | --- | --- |");
            foreach (var check in s.Checks)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {check.Name} | {(check.Passed ? "yes" : "**NO**")} | {check.Detail} |");
            }

            md.AppendLine();
            md.AppendLine("| requests | count | statuses | p50 ms | p95 ms | max ms |");
            md.AppendLine("| --- | ---: | --- | ---: | ---: | ---: |");
            foreach (var endpoint in s.Answers.Endpoints)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| `{endpoint}` | {s.Answers.Count(endpoint, _ => true)} | {Statuses(s.Answers, endpoint)} | {s.Answers.Percentile(endpoint, 50):F0} | {s.Answers.Percentile(endpoint, 95):F0} | {s.Answers.Max(endpoint):F0} |");
            }

            md.AppendLine();
        }

        return md.ToString();
    }

    public static string Summary(OutageResults run)
    {
        var lines = new List<string>
        {
            $"outage scenarios {(run.Passed ? "PASSED" : "FAILED")}: {run.Scenarios.Count(s => s.Passed)} of {OutageResults.ScenarioCount} passed every check",
        };
        foreach (var s in run.Scenarios)
        {
            lines.Add("  " + Line(s));
            lines.AddRange(s.Checks.Where(c => !c.Passed).Select(c => $"      failed: {c.Name}: {c.Detail}"));
        }

        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>One scenario in one line.</summary>
    public static string Line(ScenarioResult s)
    {
        var o = s.Orders;
        var orders = o is null
            ? string.Empty
            : $"accepted {o.Accepted}/{o.Placed}, confirmed {o.WithStatus("confirmed")}, rejected {o.WithStatus("rejected")}, failed {o.WithStatus("failed")} (transient {o.FailedForTransientCause}), stuck {o.Stuck}, lost {o.Lost}; "
                + $"captured once {o.Payments.ConfirmedCapturedOnce}/{o.WithStatus("confirmed")}, captured twice {o.Payments.CapturedTwice}, open authorizations {o.Payments.OpenAuthorizations}, rejected/failed captured {o.Payments.CapturedButNotConfirmed}, voids {o.Payments.Voids}; ";
        return $"{s.Number}. {(s.Passed ? "passed" : "FAILED")} {s.Title}: {orders}recovery {s.Recovery.TotalSeconds:F1} s ({s.RecoveryMeasure}); answers {Answers(s.Answers)}";
    }

    private static string Answers(Stats answers) =>
        string.Join("; ", answers.Endpoints.Select(e => $"{e}: {Statuses(answers, e)} (max {answers.Max(e):F0} ms)"));

    private static string Statuses(Stats answers, string endpoint) =>
        string.Join(", ", answers.Statuses(endpoint).Select(a => $"{SoakReport.StatusName(a.Status)}: {a.Count}"));
}
