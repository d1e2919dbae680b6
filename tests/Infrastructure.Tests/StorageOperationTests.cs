using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Storage.Queues;

namespace Storefront.Infrastructure.Tests;

/// <summary>
/// Least privilege for storage, proven offline: every Azure Storage SDK member the app calls (read from the IL of
/// Storefront.Api.dll, so a new call without a row here fails) either makes no request or maps to the REST
/// operation(s) it sends and the permission Azure checks for them with Entra auth; a role the template assigns to
/// the app identity on the storage account must grant that permission. Locally (Azurite, shared key) every call
/// is allowed, so only this table catches a call the identity may not make.
/// </summary>
public sealed partial class StorageOperationTests
{
    private const string QueueRead = "Microsoft.Storage/storageAccounts/queueServices/queues/read";
    private const string QueueWrite = "Microsoft.Storage/storageAccounts/queueServices/queues/write";
    private const string MessageAdd = "Microsoft.Storage/storageAccounts/queueServices/queues/messages/add/action";
    private const string MessageWrite = "Microsoft.Storage/storageAccounts/queueServices/queues/messages/write";
    private const string ContainerWrite = "Microsoft.Storage/storageAccounts/blobServices/containers/write";
    private const string BlobRead = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
    private const string BlobWrite = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";

    /// <summary>
    /// The SDK members that send requests: the REST operations they send and, per operation, the permission sets
    /// any one of which authorizes it ("Permissions for calling data operations",
    /// https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory).
    /// </summary>
    public static readonly Dictionary<string, Operation> Requests = new(StringComparer.Ordinal)
    {
        // Health probe.
        ["Azure.Storage.Queues.QueueClient.ExistsAsync"] = new("Get Queue Metadata", [[QueueRead]]),
        // Outbox: locally the first send creates the queue; in Azure the template created it (the call answers 409).
        ["Azure.Storage.Queues.QueueClient.CreateIfNotExistsAsync"] = new("Create Queue", [[QueueWrite]]),
        ["Azure.Storage.Queues.QueueClient.SendMessageAsync"] = new("Put Message", [[MessageAdd], [MessageWrite]]),
        // Reports.
        ["Azure.Storage.Blobs.BlobContainerClient.CreateIfNotExistsAsync"] = new("Create Container", [[ContainerWrite]]),
        ["Azure.Storage.Blobs.Specialized.BlockBlobClient.OpenWriteAsync"] = new("Put Blob (overwrite), Put Block, Put Block List", [[BlobWrite]]),
        ["Azure.Storage.Blobs.Specialized.BlobBaseClient.GetPropertiesAsync"] = new("Get Blob Properties", [[BlobRead]]),
        ["Azure.Storage.Blobs.Specialized.BlobBaseClient.OpenReadAsync"] = new("Get Blob Properties, Get Blob", [[BlobRead]]),
    };

    /// <summary>SDK members that send nothing: constructors, client factories, options and response models.</summary>
    public static readonly HashSet<string> Local = new(StringComparer.Ordinal)
    {
        "Azure.Storage.Queues.QueueServiceClient..ctor",
        "Azure.Storage.Queues.QueueServiceClient.GetQueueClient",
        "Azure.Storage.Queues.QueueClient.get_Name",
        "Azure.Storage.Queues.QueueClientOptions..ctor",
        "Azure.Storage.Queues.QueueClientOptions.set_MessageEncoding",
        "Azure.Storage.Blobs.BlobClientOptions..ctor",
        "Azure.Storage.Blobs.BlobServiceClient..ctor",
        "Azure.Storage.Blobs.BlobServiceClient.GetBlobContainerClient",
        "Azure.Storage.Blobs.BlobContainerClient.GetBlobClient",
        "Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlockBlobClient",
        "Azure.Storage.Blobs.Models.BlockBlobOpenWriteOptions..ctor",
        "Azure.Storage.Blobs.Models.BlockBlobOpenWriteOptions.set_HttpHeaders",
        "Azure.Storage.Blobs.Models.BlobHttpHeaders..ctor",
        "Azure.Storage.Blobs.Models.BlobHttpHeaders.set_ContentType",
        "Azure.Storage.Blobs.Models.BlobProperties.get_ContentLength",
    };

    /// <summary>
    /// Permissions of the built-in roles that may be assigned on the storage account (their role definitions,
    /// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage). Actions and data
    /// actions are listed together: data-plane requests are checked against both.
    /// </summary>
    public static readonly Dictionary<string, Role> StorageRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = new("Storage Blob Data Owner",
        [
            "Microsoft.Storage/storageAccounts/blobServices/containers/*",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*",
        ]),
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = new("Storage Queue Data Contributor",
        [
            "Microsoft.Storage/storageAccounts/queueServices/queues/delete",
            "Microsoft.Storage/storageAccounts/queueServices/queues/read",
            "Microsoft.Storage/storageAccounts/queueServices/queues/write",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/read",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/write",
            "Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action",
        ]),
    };

    private static string AppAssembly => Path.Combine(Bicep.AppDirectory, "Storefront.Api.dll");

    [Fact]
    public void Every_storage_call_of_the_app_is_in_the_table()
    {
        var used = StorageCalls.In(AppAssembly);
        var unknown = used.Where(m => !Requests.ContainsKey(m) && !Local.Contains(m)).ToList();
        Assert.True(unknown.Count == 0, $"Storage SDK members the app calls without a row in StorageOperationTests (add what request each sends and the permission it needs): {string.Join(", ", unknown)}");

        // No stale rows: the table describes what the app does now.
        var stale = Requests.Keys.Concat(Local).Where(m => !used.Contains(m)).ToList();
        Assert.True(stale.Count == 0, $"Rows for members the app no longer calls: {string.Join(", ", stale)}");
    }

    [Fact]
    public void Every_storage_request_of_the_app_is_granted_by_a_role_assigned_on_the_storage_account()
    {
        var roles = StorageAccountRoles();
        var denied = new List<string>();
        foreach (var (member, operation) in Requests)
        {
            var granting = operation.AnyOf
                .Select(all => roles.Where(r => all.All(permission => Grants(r, permission))).Select(r => r.Name).ToList())
                .FirstOrDefault(names => names.Count > 0);
            if (granting is null)
            {
                denied.Add($"{member} ({operation.Rest}) needs {string.Join(" or ", operation.AnyOf.Select(a => string.Join(" and ", a)))}");
            }
        }

        Assert.True(denied.Count == 0, $"Not granted to the app identity on the storage account (roles: {string.Join(", ", roles.Select(r => r.Name))}):\n{string.Join("\n", denied)}");
    }

    /// <summary>
    /// The check catches what the old health probe did: Get Queue Service Properties needs queueServices/read, a
    /// management action no data role has, so the identity gets 403 in Azure while Azurite allows it.
    /// </summary>
    [Fact]
    public void A_service_properties_call_would_be_found_and_would_not_be_granted()
    {
        Assert.Contains("Azure.Storage.Queues.QueueServiceClient.GetPropertiesAsync", StorageCalls.In(typeof(StorageOperationTests).Assembly.Location));
        Assert.DoesNotContain("Azure.Storage.Queues.QueueServiceClient.GetPropertiesAsync", StorageCalls.In(AppAssembly));

        var roles = StorageAccountRoles();
        Assert.DoesNotContain(roles, r => Grants(r, "Microsoft.Storage/storageAccounts/queueServices/read"));
        Assert.Contains(roles, r => Grants(r, QueueRead));
    }

    /// <summary>The roles main.bicep assigns to the app identity on the storage account, with their permissions.</summary>
    private static List<Role> StorageAccountRoles()
    {
        var roles = new List<Role>();
        foreach (var (_, template, resource) in Bicep.AllResources("Microsoft.Authorization/roleAssignments"))
        {
            if (resource["scope"]?.GetValue<string>().Contains("'Microsoft.Storage/storageAccounts'", StringComparison.Ordinal) != true)
            {
                continue;
            }

            var definition = resource["properties"]!["roleDefinitionId"]!.GetValue<string>();
            var reference = RoleVariable().Match(definition);
            Assert.True(reference.Success, $"unexpected roleDefinitionId expression {definition}");
            var id = template["variables"]!["roles"]![reference.Groups[1].Value]!.GetValue<string>();
            Assert.True(StorageRoles.TryGetValue(id, out var role), $"role {id} is assigned on the storage account; add its permissions to StorageRoles");
            roles.Add(role);
        }

        Assert.NotEmpty(roles);
        return roles;
    }

    /// <summary>Azure RBAC matching: case-insensitive, "*" matches any sequence of characters.</summary>
    private static bool Grants(Role role, string permission) =>
        role.Permissions.Any(p => Regex.IsMatch(permission, "^" + Regex.Escape(p).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.IgnoreCase));

    // Never run: compiled so that the scanner test above sees a service-level call in an assembly.
    internal static Task ServicePropertiesProbe(QueueServiceClient queues) => queues.GetPropertiesAsync();

    [GeneratedRegex(@"variables\('roles'\)\.(\w+)")]
    private static partial Regex RoleVariable();

    public sealed record Operation(string Rest, string[][] AnyOf);

    public sealed record Role(string Name, string[] Permissions);
}
