using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Storefront.Infrastructure.Tests;

/// <summary>
/// What a first deployment on a real subscription depends on and what the defaults allow, asserted on the compiled
/// templates: pool arithmetic per Flex Consumption function group, PgBouncer parameter order, no empty required
/// strings, diagnostic settings, no basic-auth publishing, PostgreSQL without a public endpoint by default, alerts.
/// </summary>
public sealed partial class DeploymentTests
{
    private static JsonArray Functions()
    {
        var path = Path.Combine(Bicep.AppDirectory, "functions.metadata");
        Assert.True(File.Exists(path), $"{path} is missing: build functions/Storefront.Api");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    }

    private static string TriggerType(JsonNode function) =>
        function["bindings"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()).Single(t => t.EndsWith("Trigger", StringComparison.Ordinal));

    private static string? TriggerQueue(JsonNode function) =>
        function["bindings"]!.AsArray().SingleOrDefault(b => b!["type"]!.GetValue<string>() == "queueTrigger")?["queueName"]?.GetValue<string>();

    private static JsonNode Parameter(string name) => Bicep.DevParameters["parameters"]![name]!["value"]!;

    // ---------------------------------------------------------------------------------------------------------
    // Connection budget (issue item 3)
    // ---------------------------------------------------------------------------------------------------------

    [Fact]
    public void The_function_group_count_of_the_pool_arithmetic_is_the_apps_flex_consumption_scale_groups()
    {
        // Flex Consumption: all HTTP functions scale as one group ("http"), every other function as its own.
        var functions = Functions();
        var others = functions.Where(f => TriggerType(f!) != "httpTrigger").Select(f => f!["name"]!.GetValue<string>()).ToList();
        var expected = others.Count + (functions.Any(f => TriggerType(f!) == "httpTrigger") ? 1 : 0);

        Assert.True(
            expected == Bicep.Main["variables"]!["functionScaleGroupCount"]!.GetValue<int>(),
            $"main.bicep functionScaleGroupCount must be {expected}: the HTTP group and {string.Join(", ", others)}");
        Assert.True(others.Count > 1, "the app has queue and timer functions, each a scale group of its own");
    }

    [Fact]
    public void The_client_side_budget_covers_every_instance_of_every_function_group_and_holds_for_the_dev_parameters()
    {
        var variables = Bicep.Main["variables"]!.AsObject();
        Assert.Equal(
            "[add(mul(parameters('functionAppMaximumInstanceCount'), variables('functionScaleGroupCount')), parameters('functionAppAlwaysReadyHttpInstances'))]",
            variables["functionAppMostInstances"]!.GetValue<string>());
        Assert.Equal("[mul(parameters('postgresMaxPoolSize'), variables('functionAppMostInstances'))]", variables["pgBouncerClientDemand"]!.GetValue<string>());
        Assert.StartsWith("[if(lessOrEquals(variables('pgBouncerClientDemand'), parameters('pgBouncerMaxClientConnections')), parameters('pgBouncerMaxClientConnections'), fail(", variables["pgBouncerMaxClientConnectionsChecked"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("fail(", variables["pgBouncerDefaultPoolSizeChecked"]!.GetValue<string>(), StringComparison.Ordinal);

        // The checked values are what PgBouncer gets.
        var pgBouncer = Bicep.Module("postgres")["properties"]!["parameters"]!["pgBouncerParameters"]!["value"]!;
        Assert.Equal("[variables('pgBouncerMaxClientConnectionsChecked')]", pgBouncer["pgbouncer.max_client_conn"]!.GetValue<string>());
        Assert.Equal("[variables('pgBouncerDefaultPoolSizeChecked')]", pgBouncer["pgbouncer.default_pool_size"]!.GetValue<string>());

        int Value(string name) => Parameter(name).GetValue<int>();
        var groups = variables["functionScaleGroupCount"]!.GetValue<int>();
        var instances = Value("functionAppMaximumInstanceCount") * groups + Value("functionAppAlwaysReadyHttpInstances");
        Assert.True(
            Value("postgresMaxPoolSize") * instances <= Value("pgBouncerMaxClientConnections"),
            $"dev: {Value("postgresMaxPoolSize")} x {instances} instances > {Value("pgBouncerMaxClientConnections")}");

        var maxConnections = variables["postgresMaxConnectionsBySku"]![Parameter("postgresSkuName").GetValue<string>()]!.GetValue<int>();
        var reserved = variables["postgresReservedConnections"]!.GetValue<int>() + variables["postgresDirectConnections"]!.GetValue<int>();
        Assert.True(Value("pgBouncerDefaultPoolSize") * variables["pgBouncerPoolCount"]!.GetValue<int>() <= maxConnections - reserved);
    }

    [Fact]
    public void The_scale_parameters_document_per_function_group_scaling()
    {
        var parameters = Bicep.Main["parameters"]!;
        Assert.Contains("function group", parameters["functionAppMaximumInstanceCount"]!["metadata"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("function group", parameters["pgBouncerMaxClientConnections"]!["metadata"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------------------------------------------------
    // PgBouncer parameter order (issue item 4)
    // ---------------------------------------------------------------------------------------------------------

    [Fact]
    public void PgBouncer_is_enabled_before_any_other_pgbouncer_parameter_is_set_one_at_a_time()
    {
        var resources = Bicep.Resources(Bicep.ModuleTemplate("postgres"))
            .Where(r => Bicep.Type(r) == "Microsoft.DBforPostgreSQL/flexibleServers/configurations")
            .ToList();
        var enabled = Assert.Single(resources, r => r["name"]!.GetValue<string>().Contains("'pgbouncer.enabled'", StringComparison.Ordinal));
        Assert.Equal("true", enabled["properties"]!["value"]!.GetValue<string>());

        var others = Assert.Single(resources, r => r["copy"] is not null);
        Assert.Equal("serial", others["copy"]!["mode"]!.GetValue<string>());
        Assert.Equal(1, others["copy"]!["batchSize"]!.GetValue<int>());
        Assert.Contains(
            "[resourceId('Microsoft.DBforPostgreSQL/flexibleServers/configurations', parameters('name'), 'pgbouncer.enabled')]",
            others["dependsOn"]!.AsArray().Select(d => d!.GetValue<string>()));

        var passed = Bicep.Module("postgres")["properties"]!["parameters"]!["pgBouncerParameters"]!["value"]!.AsObject();
        Assert.DoesNotContain("pgbouncer.enabled", passed.Select(p => p.Key));
        Assert.All(passed, p => Assert.StartsWith("pgbouncer.", p.Key, StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Required strings (issue item 5)
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>String parameters whose empty value means "none" (their descriptions say so).</summary>
    private static readonly HashSet<string> MayBeEmpty = new(StringComparer.Ordinal) { "alertNotificationEmail", "postgresAllowedClientIpAddress" };

    [Fact]
    public void Every_string_parameter_refuses_the_empty_string_unless_empty_means_none()
    {
        foreach (var (name, parameter) in Bicep.Main["parameters"]!.AsObject())
        {
            if (parameter!["type"]!.GetValue<string>() != "string")
            {
                continue;
            }

            if (MayBeEmpty.Contains(name))
            {
                Assert.Contains("empty", parameter["metadata"]!["description"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
                continue;
            }

            Assert.True(
                parameter["minLength"]?.GetValue<int>() >= 1 || parameter["allowedValues"] is JsonArray { Count: > 0 } values && values.All(v => v!.GetValue<string>().Length > 0),
                $"main.bicep parameter {name} accepts ''; give it @minLength(1)");
        }
    }

    /// <summary>Environment variables main.bicepparam reads into string parameters that must not be empty.</summary>
    public static TheoryData<string> RequiredEnvironmentVariables()
    {
        var data = new TheoryData<string>();
        var parameters = Bicep.Main["parameters"]!;
        foreach (Match match in EnvironmentParameter().Matches(File.ReadAllText(Path.Combine(Bicep.InfraDirectory, "main.bicepparam"))))
        {
            var parameter = parameters[match.Groups["parameter"].Value]!;
            if (parameter["type"]!.GetValue<string>() == "string" && parameter["minLength"]?.GetValue<int>() >= 1)
            {
                data.Add(match.Groups["variable"].Value);
            }
        }

        return data;
    }

    [Fact]
    public void The_variables_github_may_leave_empty_are_among_the_checked_ones()
    {
        var variables = RequiredEnvironmentVariables().Cast<object[]>().Select(row => (string)row[0]).ToHashSet();
        Assert.Superset(
            new HashSet<string> { "AZURE_ENV_NAME", "AZURE_LOCATION", "POSTGRES_ADMIN_NAME", "SERVICES_INVENTORY_BASE_URL", "SERVICES_REVIEWS_BASE_URL", "SERVICES_FX_BASE_URL", "SERVICES_PAYMENTS_BASE_URL", "SERVICES_SHIPPING_BASE_URL", "SERVICES_NOTIFICATIONS_BASE_URL" },
            variables);
    }

    /// <summary>An unset GitHub variable reaches the environment as '': the parameters file must not compile then.</summary>
    [Theory]
    [MemberData(nameof(RequiredEnvironmentVariables))]
    public void An_empty_environment_variable_fails_the_parameters_file_instead_of_deploying_an_empty_setting(string variable)
    {
        var result = Bicep.Run(new Dictionary<string, string> { [variable] = "" }, "build-params", Path.Combine(Bicep.InfraDirectory, "main.bicepparam"), "--stdout");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("BCP333", result.Error, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Security and observability (issue item 9)
    // ---------------------------------------------------------------------------------------------------------

    public static TheoryData<string, string, bool> DiagnosedResources() => new()
    {
        { "functionApp", "Microsoft.Web/sites", true },
        { "postgres", "Microsoft.DBforPostgreSQL/flexibleServers", true },
        { "storage", "Microsoft.Storage/storageAccounts", false }, // the account has metrics only
        { "storage", "Microsoft.Storage/storageAccounts/blobServices", true },
        { "storage", "Microsoft.Storage/storageAccounts/queueServices", true },
    };

    [Theory]
    [MemberData(nameof(DiagnosedResources))]
    public void Logs_and_metrics_go_to_the_log_analytics_workspace(string module, string type, bool hasLogs)
    {
        var setting = Assert.Single(
            Bicep.Resources(Bicep.ModuleTemplate(module)),
            r => Bicep.Type(r) == "Microsoft.Insights/diagnosticSettings" && r["scope"]!.GetValue<string>().StartsWith($"[resourceId('{type}',", StringComparison.Ordinal));
        var properties = setting["properties"]!;
        Assert.Equal("[parameters('logAnalyticsWorkspaceId')]", properties["workspaceId"]!.GetValue<string>());
        Assert.Contains(properties["metrics"]!.AsArray(), m => m!["enabled"]!.GetValue<bool>());
        if (hasLogs)
        {
            Assert.Contains(properties["logs"]!.AsArray(), l => l!["categoryGroup"]?.GetValue<string>() == "allLogs" && l["enabled"]!.GetValue<bool>());
        }

        Assert.Equal(
            "[reference(resourceId('Microsoft.Resources/deployments', 'monitoring'), '2025-04-01').outputs.logAnalyticsId.value]",
            Bicep.Module(module)["properties"]!["parameters"]!["logAnalyticsWorkspaceId"]!["value"]!.GetValue<string>());
        Assert.Equal("[resourceId('Microsoft.OperationalInsights/workspaces', parameters('logAnalyticsName'))]", Bicep.ModuleTemplate("monitoring")["outputs"]!["logAnalyticsId"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void Basic_auth_publishing_is_off_for_scm_and_ftp()
    {
        var policies = Bicep.AllResources("Microsoft.Web/sites/basicPublishingCredentialsPolicies").Select(p => p.Resource).ToList();
        foreach (var name in new[] { "ftp", "scm" })
        {
            var policy = Assert.Single(policies, p => p["name"]!.GetValue<string>().EndsWith($"'{name}')]", StringComparison.Ordinal));
            Assert.False(policy["properties"]!["allow"]!.GetValue<bool>());
            Assert.Null(policy["condition"]);
        }
    }

    [Fact]
    public void Postgres_has_no_public_endpoint_and_no_azure_services_rule_unless_asked_for()
    {
        var parameters = Bicep.Main["parameters"]!;
        Assert.True(parameters["vnetEnabled"]!["defaultValue"]!.GetValue<bool>());
        Assert.False(parameters["postgresPublicNetworkAccess"]!["defaultValue"]!.GetValue<bool>());
        Assert.False(parameters["postgresAllowAzureServices"]!["defaultValue"]!.GetValue<bool>());
        Assert.True(Parameter("vnetEnabled").GetValue<bool>());
        Assert.False(Parameter("postgresPublicNetworkAccess").GetValue<bool>());
        Assert.False(Parameter("postgresAllowAzureServices").GetValue<bool>());

        var template = Bicep.ModuleTemplate("postgres");
        Assert.False(template["parameters"]!["publicNetworkAccess"]!["defaultValue"]!.GetValue<bool>());
        Assert.False(template["parameters"]!["allowAzureServices"]!["defaultValue"]!.GetValue<bool>());
        var server = Assert.Single(Bicep.Resources(template), r => Bicep.Type(r) == "Microsoft.DBforPostgreSQL/flexibleServers");
        Assert.Equal("[if(parameters('publicNetworkAccess'), 'Enabled', 'Disabled')]", server["properties"]!["network"]!["publicNetworkAccess"]!.GetValue<string>());

        var rules = Bicep.Resources(template).Where(r => Bicep.Type(r) == "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules").ToList();
        var azureServices = Assert.Single(rules, r => r["properties"]!["startIpAddress"]!.GetValue<string>() == "0.0.0.0");
        Assert.Equal("[and(parameters('publicNetworkAccess'), parameters('allowAzureServices'))]", azureServices["condition"]!.GetValue<string>());
        Assert.All(rules, r => Assert.StartsWith("[and(parameters('publicNetworkAccess'),", r["condition"]!.GetValue<string>(), StringComparison.Ordinal));

        // Without the virtual network, or with firewall rules but no public endpoint, the deployment stops at its start.
        var check = Bicep.Main["variables"]!["postgresPublicNetworkAccessChecked"]!.GetValue<string>();
        Assert.StartsWith("[if(and(not(parameters('vnetEnabled')), not(and(parameters('postgresPublicNetworkAccess'), parameters('postgresAllowAzureServices')))), fail(", check, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(check, @"fail\(").Count);
        Assert.EndsWith("parameters('postgresPublicNetworkAccess')))]", check, StringComparison.Ordinal);
    }

    [Fact]
    public void Alerts_watch_the_5xx_rate_the_poison_queues_and_the_age_of_orders_messages()
    {
        var template = Bicep.ModuleTemplate("alerts");
        var rules = template["variables"]!["rules"]!.AsArray().ToDictionary(r => r!["name"]!.GetValue<string>(), r => r!);
        var alerts = Assert.Single(Bicep.Resources(template), r => Bicep.Type(r) == "Microsoft.Insights/scheduledQueryRules");
        Assert.Equal("[length(variables('rules'))]", alerts["copy"]!["count"]!.GetValue<string>());
        Assert.Null(alerts["condition"]);
        Assert.True(alerts["properties"]!["enabled"]!.GetValue<bool>());
        Assert.Equal("[parameters('applicationInsightsId')]", alerts["properties"]!["scopes"]![0]!.GetValue<string>());
        Assert.Equal(
            "[reference(resourceId('Microsoft.Resources/deployments', 'monitoring'), '2025-04-01').outputs.applicationInsightsId.value]",
            Bicep.Module("alerts")["properties"]!["parameters"]!["applicationInsightsId"]!["value"]!.GetValue<string>());

        Assert.Contains("toint(resultCode) >= 500", rules["http-5xx-rate"]["query"]!.GetValue<string>(), StringComparison.Ordinal);

        // The host's line for a message moved to a poison queue, whatever queue it came from; any one fires.
        var poisonQuery = rules["poison-messages"]["query"]!.GetValue<string>();
        Assert.Contains("message startswith \"Message has reached MaxDequeueCount\"", poisonQuery, StringComparison.Ordinal);
        Assert.Contains("-poison'", poisonQuery, StringComparison.Ordinal);
        Assert.Equal(0, rules["poison-messages"]["threshold"]!.GetValue<int>());

        // The age of messages a function took from "orders", a queue the app's functions are triggered by.
        Assert.Contains("orders", Functions().Select(f => TriggerQueue(f!)).OfType<string>());
        var ageQuery = rules["orders-message-age"]["query"]!.GetValue<string>();
        Assert.Contains("New queue message detected on 'orders'.", ageQuery, StringComparison.Ordinal);
        Assert.Contains("InsertedOn", ageQuery, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"param (?<parameter>\w+) = readEnvironmentVariable\('(?<variable>\w+)'")]
    private static partial Regex EnvironmentParameter();
}
