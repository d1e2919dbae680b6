using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.OpenApi.YamlReader;
using SharpYaml.Serialization;

namespace Storefront.Infrastructure.Tests;

/// <summary>
/// The GitHub workflows and the migration path, read as data: deployment gated on CI, a protected environment, a
/// read-only what-if identity, a what-if before every deploy, the PostgreSQL token right after a fresh sign-in,
/// actions pinned by commit, Node 22 or later, one migration script with one owner role.
/// </summary>
public sealed partial class WorkflowTests
{
    private static readonly string WorkflowDirectory = Path.Combine(Bicep.RepositoryRoot, ".github", "workflows");

    private static JsonObject Yaml(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return (JsonObject)YamlConverter.ToJsonNode(stream.Documents.Single().RootNode)!;
    }

    private static JsonObject Deploy => Yaml(Path.Combine(WorkflowDirectory, "deploy.yml"));

    private static JsonObject Job(string name) => Deploy["jobs"]![name]!.AsObject();

    private static List<JsonObject> Steps(string job) => [.. Job(job)["steps"]!.AsArray().Select(s => s!.AsObject())];

    private static string Text(JsonNode? node) => node?.GetValue<string>() ?? "";

    private static bool Uses(JsonObject step, string action) => Text(step["uses"]).StartsWith(action + "@", StringComparison.OrdinalIgnoreCase);

    public static TheoryData<string> Workflows()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(WorkflowDirectory, "*.yml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Gating, environments, identities (issue item 7)
    // ---------------------------------------------------------------------------------------------------------

    [Fact]
    public void Deployment_starts_only_from_a_successful_ci_run_of_a_push_to_main_and_deploys_the_commit_ci_tested()
    {
        var on = Deploy["on"]!.AsObject();
        Assert.Equal(["pull_request", "workflow_run"], on.Select(t => t.Key).Order(StringComparer.Ordinal));
        var ciName = Text(Yaml(Path.Combine(WorkflowDirectory, "ci.yml"))["name"]);
        Assert.Equal([ciName], on["workflow_run"]!["workflows"]!.AsArray().Select(Text));
        Assert.Equal(["completed"], on["workflow_run"]!["types"]!.AsArray().Select(Text));
        Assert.Equal(["main"], on["workflow_run"]!["branches"]!.AsArray().Select(Text));

        var condition = Text(Job("deploy")["if"]);
        Assert.Contains("github.event_name == 'workflow_run'", condition, StringComparison.Ordinal);
        Assert.Contains("github.event.workflow_run.conclusion == 'success'", condition, StringComparison.Ordinal);
        Assert.Contains("github.event.workflow_run.event == 'push'", condition, StringComparison.Ordinal);

        var checkout = Assert.Single(Steps("deploy"), s => Uses(s, "actions/checkout"));
        Assert.Equal("${{ github.event.workflow_run.head_sha }}", Text(checkout["with"]!["ref"]));
    }

    [Fact]
    public void Only_the_deploy_job_holds_the_deploying_identity_and_it_runs_in_the_protected_production_environment()
    {
        Assert.Null(Deploy["permissions"]!["id-token"]); // OIDC tokens per job, not for the whole workflow
        Assert.Equal("production", Text(Job("deploy")["environment"]));

        foreach (var (name, job) in Deploy["jobs"]!.AsObject())
        {
            var logins = job!["steps"]!.AsArray().Select(s => s!.AsObject()).Where(s => Uses(s, "azure/login")).ToList();
            var clientIds = logins.Select(s => Text(s["with"]!["client-id"])).Distinct().ToList();
            if (name == "deploy")
            {
                Assert.Equal(["${{ vars.AZURE_CLIENT_ID }}"], clientIds);
            }
            else
            {
                Assert.DoesNotContain("${{ vars.AZURE_CLIENT_ID }}", clientIds);
                Assert.NotEqual("production", Text(job["environment"]));
            }
        }
    }

    [Fact]
    public void Pull_requests_and_deploys_get_a_what_if_by_a_read_only_identity_with_its_summary_in_the_job_summary()
    {
        var whatIf = Job("what-if");
        var condition = Text(whatIf["if"]);
        Assert.Contains("github.event_name == 'pull_request'", condition, StringComparison.Ordinal);
        Assert.Contains("github.event.workflow_run.conclusion == 'success'", condition, StringComparison.Ordinal);
        Assert.Equal("what-if", Text(Job("deploy")["needs"]));

        var steps = whatIf["steps"]!.AsArray().Select(s => s!.AsObject()).ToList();
        var login = Assert.Single(steps, s => Uses(s, "azure/login"));
        Assert.Equal("${{ vars.AZURE_WHATIF_CLIENT_ID }}", Text(login["with"]!["client-id"]));

        var scripts = string.Join("\n", steps.Select(s => Text(s["run"])));
        Assert.Contains("az deployment group what-if", scripts, StringComparison.Ordinal);
        // Read permission checks instead of write checks: a reader can run it.
        Assert.Contains("--validation-level ProviderNoRbac", scripts, StringComparison.Ordinal);
        Assert.Contains(">> \"$GITHUB_STEP_SUMMARY\"", scripts, StringComparison.Ordinal);
        foreach (var write in new[] { "deployment group create", "firewall-rule", "role assignment", "functionapp deployment" })
        {
            Assert.DoesNotContain(write, scripts, StringComparison.Ordinal);
        }

        var checkout = Assert.Single(steps, s => Uses(s, "actions/checkout"));
        Assert.Equal("${{ github.event.workflow_run.head_sha || github.sha }}", Text(checkout["with"]!["ref"]));
    }

    // ---------------------------------------------------------------------------------------------------------
    // The PostgreSQL token (issue item 2)
    // ---------------------------------------------------------------------------------------------------------

    [Fact]
    public void The_postgres_token_is_the_first_thing_asked_for_after_a_sign_in_that_follows_the_deployment()
    {
        var steps = Steps("deploy");
        var deployment = steps.FindIndex(s => Text(s["run"]).Contains("az deployment group create", StringComparison.Ordinal));
        var tokenSteps = steps.Select((s, i) => (s, i)).Where(x => Text(x.s["run"]).Contains("--resource-type oss-rdbms", StringComparison.Ordinal)).ToList();
        var (migration, index) = Assert.Single(tokenSteps);

        Assert.True(deployment >= 0 && index > deployment + 1);
        Assert.True(Uses(steps[index - 1], "azure/login"), "the step before the PostgreSQL token must be a fresh azure/login");
        var firstCommand = Text(migration["run"]).Split('\n').Select(l => l.Trim()).First(l => l.Length > 0 && !l.StartsWith('#'));
        Assert.Contains("az account get-access-token --resource-type oss-rdbms", firstCommand, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------------------------------------------------
    // One schema owner whoever migrates (issue item 6)
    // ---------------------------------------------------------------------------------------------------------

    [Fact]
    public void The_workflow_and_azd_migrate_with_one_script_that_runs_the_migrations_as_the_owner_role()
    {
        Assert.Contains("./infra/migrate.sh ", Text(Steps("deploy").Single(s => Text(s["run"]).Contains("oss-rdbms", StringComparison.Ordinal))["run"]), StringComparison.Ordinal);
        var azure = Yaml(Path.Combine(Bicep.RepositoryRoot, "azure.yaml"));
        Assert.Contains("./infra/migrate.sh ", Text(azure["hooks"]!["postprovision"]!["run"]), StringComparison.Ordinal);

        var script = File.ReadAllText(Path.Combine(Bicep.InfraDirectory, "migrate.sh"));
        var owner = script.IndexOf("-f infra/modules/postgres-schema-owner.sql", StringComparison.Ordinal);
        var migrate = script.IndexOf("--project functions/Storefront.Migrations", StringComparison.Ordinal);
        var principal = script.IndexOf("-f infra/modules/postgres-app-principal.sql", StringComparison.Ordinal);
        Assert.True(owner >= 0 && owner < migrate && migrate < principal, "migrate.sh: owner role, then migrations, then the app principal");
        Assert.Contains("Options=-c role=storefront_owner", script[migrate..principal], StringComparison.Ordinal);

        var ownerSql = File.ReadAllText(Path.Combine(Bicep.InfraDirectory, "modules", "postgres-schema-owner.sql"));
        Assert.Contains("CREATE ROLE storefront_owner NOLOGIN", ownerSql, StringComparison.Ordinal);
        Assert.Contains("GRANT storefront_owner TO :\"administrators\"", ownerSql, StringComparison.Ordinal);
        Assert.Contains("OWNER TO storefront_owner", ownerSql, StringComparison.Ordinal);
        var principalSql = File.ReadAllText(Path.Combine(Bicep.InfraDirectory, "modules", "postgres-app-principal.sql"));
        Assert.Equal(2, Regex.Matches(principalSql, "ALTER DEFAULT PRIVILEGES FOR ROLE storefront_owner IN SCHEMA public").Count);
        Assert.DoesNotMatch(@"ALTER DEFAULT PRIVILEGES IN SCHEMA", principalSql);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Supply chain and runtimes (issue item 8)
    // ---------------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Workflows))]
    public void Every_action_is_pinned_to_a_full_commit_sha_with_its_version_in_a_comment(string workflow)
    {
        var lines = File.ReadAllLines(Path.Combine(WorkflowDirectory, workflow)).Where(l => UsesLine().IsMatch(l)).ToList();
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            Assert.Matches(PinnedUses(), line);
        }
    }

    [Theory]
    [MemberData(nameof(Workflows))]
    public void Node_is_22_or_later(string workflow)
    {
        foreach (var (_, job) in Yaml(Path.Combine(WorkflowDirectory, workflow))["jobs"]!.AsObject())
        {
            foreach (var step in job!["steps"]!.AsArray().Select(s => s!.AsObject()).Where(s => Uses(s, "actions/setup-node")))
            {
                var version = step["with"]!["node-version"]!.ToString();
                Assert.True(int.TryParse(version.Split('.')[0], out var major) && major >= 22, $"{workflow}: node-version {version}");
            }
        }
    }

    [Fact]
    public void Dependabot_keeps_the_actions_current()
    {
        var dependabot = Yaml(Path.Combine(Bicep.RepositoryRoot, ".github", "dependabot.yml"));
        Assert.Equal("2", dependabot["version"]!.ToString());
        var actions = Assert.Single(dependabot["updates"]!.AsArray(), u => Text(u!["package-ecosystem"]) == "github-actions")!;
        Assert.Equal("/", Text(actions["directory"]));
        Assert.NotEmpty(Text(actions["schedule"]!["interval"]));
    }

    [GeneratedRegex(@"^\s*(-\s+)?uses:")]
    private static partial Regex UsesLine();

    [GeneratedRegex(@"^\s*(-\s+)?uses:\s+[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")]
    private static partial Regex PinnedUses();
}
