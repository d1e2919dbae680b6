namespace Storefront.Api.Reports;

/// <summary>Report settings, bound from <c>Reports:*</c> (retries and leases are in <c>Recovery:*</c>).</summary>
public sealed class ReportsOptions
{
    public const string Section = "Reports";

    /// <summary>
    /// Reports one process generates at once. Each holds a database connection for its whole query, minutes for a long
    /// one, while the host hands a queue function up to batchSize + newBatchThreshold messages at once (16 plus 8 per
    /// core with this app's host.json): four leave most of a process's pool (20 in Azure) to reads and orders. The others
    /// wait their turn, their messages and leases kept, for at most <see cref="MaxWaitForTurn"/>.
    /// </summary>
    public int MaxConcurrentGenerations { get; set; } = 4;

    /// <summary>
    /// How long a report waits for its turn before it gives its lease and message back and comes again 30 s later: well
    /// inside functionTimeout (30 minutes by default), past which Azure restarts the worker with every invocation on it.
    /// </summary>
    public TimeSpan MaxWaitForTurn { get; set; } = TimeSpan.FromMinutes(5);
}
